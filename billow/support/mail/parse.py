# ruff: noqa: RUF001 - Russian quote headers are meant to be Cyrillic
"""Reading an inbound email with the standard ``email`` package: who sent it, is it automatic
(auto-reply, bounce, our own mail coming back), the new text without quotes and signature,
and its attachments. Pure: no database."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

from billow.notifications.builtin import REPLY_CUT_LINES
from billow.support.attachments import Upload


@dataclass(frozen=True, slots=True)
class ParsedEmail:
    message_id: str
    sender: str  # the From address, lower case
    sender_name: str
    subject: str
    recipients: tuple[str, ...]  # To and Cc addresses
    text: str  # the new text: quotes and signature cut
    automatic: str  # why it is automatic ("" for a person's mail)
    uploads: tuple[Upload, ...] = field(default=())


def parse_email(raw: bytes, *, envelope_sender: str | None = None) -> ParsedEmail:
    msg: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw)
    name, address = parseaddr(str(msg.get("From", "")))
    recipients = tuple(
        a.lower()
        for _, a in getaddresses([str(v) for v in msg.get_all("To", []) + msg.get_all("Cc", [])])
        if a
    )
    return ParsedEmail(
        message_id=str(msg.get("Message-ID", "")).strip()[:300],
        sender=address.lower(),
        sender_name=name,
        subject=" ".join(str(msg.get("Subject", "")).split()),
        recipients=recipients,
        text=strip_reply(_body_text(msg)),
        automatic=automatic_reason(msg, address, envelope_sender),
        uploads=tuple(_uploads(msg)),
    )


_BOUNCE_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|bounces?)([+@-]|$)", re.I)


def automatic_reason(msg: EmailMessage, sender: str, envelope_sender: str | None) -> str:
    """Why this mail must not open or feed a ticket ("" when a person wrote it): RFC 3834
    ``Auto-Submitted``, the usual autoresponder headers, bounces (null envelope sender,
    delivery reports, mailer-daemon) and our own mail coming back."""
    auto = str(msg.get("Auto-Submitted", "")).strip().lower()
    if auto and auto != "no":
        return "auto_submitted"
    if msg.get("X-Billow-Email-Id") is not None:
        return "loop"
    if msg.get("X-Autoreply") is not None or msg.get("X-Autorespond") is not None:
        return "auto_reply"
    if str(msg.get("Precedence", "")).strip().lower() in {"bulk", "junk", "list", "auto_reply"}:
        return "auto_reply"
    if envelope_sender is not None and envelope_sender.strip("<> ") == "":
        return "bounce"
    if msg.get_content_type() == "multipart/report" or _BOUNCE_SENDERS.match(sender):
        return "bounce"
    return ""


def _body_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if part.get_content_type() == "text/html":
        return _html_text(content)
    return str(content)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        if tag in {"br", "p", "div", "tr", "li"}:
            self.parts.append("\n")
        if tag == "blockquote":
            self.parts.append("\n> ")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"} and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "".join(parser.parts)


# "On Mon, 7 Dec 2026 at 10:00, Acme <support@...> wrote:" and its translations; Outlook's
# "-----Original Message-----" and "From: ... Sent: ..." header blocks.
_QUOTE_HEADERS = [
    re.compile(r"^\s*On\b.*\bwrote:\s*$", re.I),
    re.compile(r"^\s*El\b.*\bescribió:\s*$", re.I),
    re.compile(r"^.*\bнаписал(а)?:\s*$", re.I),
    re.compile(r"^.*\bпишет:\s*$", re.I),
    re.compile(r"^\s*-+\s*(Original Message|Исходное сообщение|Mensaje original)\s*-+\s*$", re.I),
    re.compile(r"^\s*(From|От|De):\s.*$", re.I),
]


def strip_reply(text: str) -> str:
    """The new part of a reply: stop at our cut line, a quote header ("On ... wrote:") or the
    signature separator ("-- "); drop quoted (">") lines."""
    cuts = {line.strip() for line in REPLY_CUT_LINES}
    kept: list[str] = []
    lines = text.replace("\r\n", "\n").split("\n")
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped in cuts or line.rstrip("\n") in {"-- ", "--"} or line == "__":
            break
        if _starts_quote(lines, index):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def _starts_quote(lines: list[str], index: int) -> bool:
    """A quote header; a "From:" line only as a header block (followed by more headers),
    elsewhere it may be the client's own text."""
    line = lines[index]
    if not any(p.match(line) for p in _QUOTE_HEADERS):
        return False
    if line.strip().lower().startswith(("from:", "от:", "de:")):
        return _header_block(lines, index)
    return True


def _header_block(lines: list[str], index: int) -> bool:
    following = [line.strip() for line in lines[index + 1 : index + 4] if line.strip()]
    return bool(following) and bool(
        re.match(
            r"^(Sent|To|Subject|Date|Отправлено|Кому|Тема|Enviado|Para|Asunto):", following[0], re.I
        )
    )


def _uploads(msg: EmailMessage) -> list[Upload]:
    found = []
    for part in msg.iter_attachments():
        name = part.get_filename()
        payload = part.get_payload(decode=True)
        if name and isinstance(payload, bytes):
            found.append(Upload(name=name, content=payload))
    return found
