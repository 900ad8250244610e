"""Outgoing account emails. Sent after the surrounding transaction commits, through the configured
SMTP server; a failed send is logged, never turned into a failed request."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail

from core.transactions import after_commit

logger = logging.getLogger(__name__)


def email_send_after_commit(*, to: str, subject: str, body: str) -> None:
    def send():
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=False)
        except Exception:
            logger.exception("email to %s failed: %s", to, subject)

    after_commit(send)


def site_link(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}"
