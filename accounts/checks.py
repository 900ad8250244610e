"""Start-up checks of the key settings (issue 19): `manage.py check` (and every command that runs the
system checks: migrate, runserver, `runstack`'s start) fails on a malformed key instead of the first
wallet operation failing later. Registered in AccountsConfig.ready()."""

from __future__ import annotations

import base64
import binascii

from django.conf import settings
from django.core.checks import Error

KEY_BYTES = 32


def _key_problem(text: str) -> str | None:
    try:
        key = base64.b64decode((text or "").encode(), validate=True)
    except (binascii.Error, ValueError):
        return "is not base64"
    if len(key) != KEY_BYTES:
        return f"decodes to {len(key)} bytes, not {KEY_BYTES}"
    return None


def key_settings_check(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    problem = _key_problem(settings.KEY_ENCRYPTION_KEY)
    if problem:
        errors.append(Error(f"KEY_ENCRYPTION_KEY {problem}.", id="accounts.E001",
                            hint="32 random bytes, base64: python -c \"import os, base64; "
                                 "print(base64.b64encode(os.urandom(32)).decode())\""))
    key_id = settings.KEY_ENCRYPTION_KEY_ID
    if not key_id or ":" in key_id or "," in key_id:
        errors.append(Error("KEY_ENCRYPTION_KEY_ID must be a short name without ':' or ','.", id="accounts.E002"))
    seen = {key_id}
    for item in settings.KEY_ENCRYPTION_KEYS_RETIRED:
        retired_id, separator, encoded = item.partition(":")
        problem = "is not id:base64key" if not separator or not retired_id else _key_problem(encoded)
        if problem is None and retired_id in seen:
            problem = "repeats a key id"
        seen.add(retired_id)
        if problem:
            errors.append(Error(f"KEY_ENCRYPTION_KEYS_RETIRED entry {retired_id or item[:8]!r} {problem}.",
                                id="accounts.E003"))
    if not settings.DEBUG and len(settings.SECRET_KEY) < 50:
        errors.append(Error("SECRET_KEY must be 50+ random characters when DEBUG is off.", id="accounts.E004"))
    return errors
