"""The application log and the security log are files under LOG_DIR (and stdout)."""

import logging
from pathlib import Path

from django.conf import settings


def _flush():
    for logger in (logging.getLogger(), logging.getLogger("security")):
        for handler in logger.handlers:
            handler.flush()


def test_security_events_go_to_the_security_log_only():
    logging.getLogger("security").warning("lockout user=probe-7f3a")
    logging.getLogger("wallets").warning("balance refreshed probe-91c2")
    _flush()
    security_log = (Path(settings.LOG_DIR) / "security.log").read_text()
    app_log = (Path(settings.LOG_DIR) / "crypto_accounting.log").read_text()
    assert "probe-7f3a" in security_log and "probe-7f3a" not in app_log
    assert "probe-91c2" in app_log and "probe-91c2" not in security_log
