"""The suite's private-key guard (tests/conftest.py) sees keys as they are made and catches them in
logs and emails: if it stopped working, no other test would notice a leak."""

import logging

import pytest
from django.core.mail import EmailMessage

from tests import conftest
from wallets.keystore import private_key_decrypt
from wallets.models import WalletType
from wallets.services import wallet_create

pytestmark = pytest.mark.django_db


def test_keys_are_remembered_and_a_leak_is_caught(make_user):
    wallet = wallet_create(user=make_user(), name="hot", wallet_type=WalletType.PRIVATE_KEY)
    key = private_key_decrypt(wallet.encrypted_private_key).lower().removeprefix("0x")
    assert key in conftest._KNOWN_KEYS
    before = len(conftest._LEAKS)
    try:
        # Straight to the guard's handler (it is on the root logger): through the real loggers the
        # planted key would also land in the log files, which the guard searches at the end.
        assert any(isinstance(h, conftest._LeakScanHandler) for h in logging.getLogger().handlers)
        record = logging.LogRecord("wallets", logging.WARNING, __file__, 1, "oops %s", (key,), None)
        conftest._LeakScanHandler().emit(record)
        EmailMessage("hello", f"key: 0x{key.upper()}", "a@example.test", ["b@example.test"]).message()
        found = conftest._LEAKS[before:]
        assert any("log record of wallets" in leak for leak in found)
        assert any("email 'hello'" in leak for leak in found)
    finally:
        del conftest._LEAKS[before:]  # these two were planted by this test
