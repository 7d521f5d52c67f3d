"""Attachment checks and storage: size and type limits, the virus-scan hook, Django's storage
API (the default storage: files on disk, S3 in production).

The scan hook is a dotted path in ``settings.SUPPORT_VIRUS_SCANNER`` to a callable
``(name, content) -> reason | None``; a reason refuses the file (``attachment_refused`` with
``reason="virus"``). ``clamd_scan`` talks to a clamd socket (INSTREAM).
"""

from __future__ import annotations

import hashlib
import mimetypes
import socket
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.module_loading import import_string

from billow.support.errors import AttachmentRefused
from billow.support.models import Attachment, TicketMessage, attachment_path

#: At most this many files on one message.
MAX_FILES = 5


@dataclass(frozen=True, slots=True)
class Upload:
    """A file to attach, as the interface read it (the views read at most the limit + 1)."""

    name: str
    content: bytes


def check_uploads(uploads: Sequence[Upload]) -> None:
    """Refuse the whole set before anything is written: too many, too big, a type not
    allowed, or the scanner found something (``attachment_refused``, ``reason`` says which)."""
    if len(uploads) > MAX_FILES:
        raise AttachmentRefused(f"at most {MAX_FILES} files", reason="too_many")
    limit = settings.SUPPORT_ATTACHMENT_MAX_BYTES
    allowed = {t.lower() for t in settings.SUPPORT_ATTACHMENT_TYPES}
    scan = _scanner()
    for upload in uploads:
        suffix = PurePath(upload.name).suffix.lower()
        if len(upload.content) > limit:
            raise AttachmentRefused(
                f"{upload.name} is larger than {limit} bytes", reason="too_big", name=upload.name
            )
        if suffix not in allowed:
            raise AttachmentRefused(
                f"{upload.name}: files of this type are not accepted",
                reason="type",
                name=upload.name,
            )
        found = scan(upload.name, upload.content) if scan else None
        if found:
            raise AttachmentRefused(
                f"{upload.name} was refused by the virus scanner: {found}",
                reason="virus",
                name=upload.name,
            )


def store_uploads(message: TicketMessage, uploads: Sequence[Upload]) -> list[Attachment]:
    """Save checked uploads through the storage API (content-addressed names) and write the
    rows. The stored name never comes from the client."""
    rows = []
    for upload in uploads:
        digest = hashlib.sha256(upload.content).hexdigest()
        name = PurePath(upload.name).name[:200] or "file"
        attachment = Attachment(
            message=message,
            name=name,
            content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
            size=len(upload.content),
            sha256=digest,
        )
        stored = attachment_path(attachment, name)
        storage = attachment.file.storage
        if storage.exists(stored):  # the same content was uploaded before: share the file
            attachment.file.name = stored
        else:
            attachment.file.save(digest, ContentFile(upload.content), save=False)
        attachment.save()
        rows.append(attachment)
    return rows


def _scanner() -> Callable[[str, bytes], str | None] | None:
    path = settings.SUPPORT_VIRUS_SCANNER
    return import_string(path) if path else None


def clamd_scan(name: str, content: bytes) -> str | None:
    """Ask clamd (``settings.SUPPORT_CLAMD_SOCKET``) with INSTREAM; the signature found, or
    None when clean. A scanner that cannot be reached refuses the file (fail closed)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(30)
            conn.connect(settings.SUPPORT_CLAMD_SOCKET)
            conn.sendall(b"zINSTREAM\0")
            for start in range(0, len(content), 65536):
                chunk = content[start : start + 65536]
                conn.sendall(struct.pack("!L", len(chunk)) + chunk)
            conn.sendall(struct.pack("!L", 0))
            answer = conn.recv(4096).decode("utf-8", "replace").strip("\0\n ")
    except OSError as exc:
        return f"scanner unavailable ({exc.__class__.__name__})"
    if answer.endswith("OK"):
        return None
    return answer.removeprefix("stream: ") or "refused"
