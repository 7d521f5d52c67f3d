"""Password reset links for imported users whose source hash Billow cannot verify."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.contrib.auth import get_user_model
from django.urls import reverse

from billow.accounts.models import ClientUser


def write_reset_links(client_user_ids: Sequence[int], base_url: str, path: str | Path) -> int:
    """Write ``email,link`` per user to ``path`` (CSV); the links expire like any password
    reset link (``PASSWORD_RESET_TIMEOUT``). Returns the number written."""
    user_ids = ClientUser.objects.filter(pk__in=client_user_ids).values_list("user_id", flat=True)
    users = get_user_model().objects.filter(pk__in=list(user_ids)).order_by("pk")
    count = 0
    with Path(path).open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["email", "link"])
        for user in users.iterator():
            path_part = reverse(
                "account_reset_password_from_key",
                kwargs={
                    "uidb36": user_pk_to_url_str(user),
                    "key": default_token_generator.make_token(user),
                },
            )
            out.writerow([user.email, base_url.rstrip("/") + path_part])
            count += 1
    return count
