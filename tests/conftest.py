"""Fixtures on real parts: database (pytest-django on the embedded server), anvil, SMTP, users, clients."""

import io
import itertools
import logging
import os
from pathlib import Path

import pytest
from django.conf import settings

from core import localstack
from tests import harness

collect_ignore_glob = [] if os.environ.get("BROWSER_TESTS") else ["browser/*"]


@pytest.fixture(autouse=True)
def _fast_bcrypt(settings):
    settings.PASSWORD_HASHERS = ["tests.hashers.FastBCryptSHA256PasswordHasher", *settings.PASSWORD_HASHERS]


@pytest.fixture(scope="session")
def eth_node():
    """A real anvil node (or the node of ETH_RPC_URL); yields its JSON-RPC URL."""
    if not harness.USE_ANVIL:
        yield settings.ETH_RPC_URL
        return
    log_path = localstack.Path(settings.DATA_DIR) / "log" / "anvil.log"
    process, port = harness.start_on_a_free_port(
        lambda port: localstack.start_anvil(port, log_path=log_path), settings.EMBEDDED_ETH_PORT)
    if port != settings.EMBEDDED_ETH_PORT:
        harness.move_setting("EMBEDDED_ETH_PORT", port)
        harness.move_setting("ETH_RPC_URL", f"http://127.0.0.1:{port}")
    yield settings.ETH_RPC_URL
    process.stop()


@pytest.fixture(scope="session")
def extra_chains(eth_node):
    """Two more anvil nodes beside the suite's "ethereum" (31337): {"polygon": url (chain id 137),
    "bsc": url (chain id 56)}, started once per worker by the tests that need several networks."""
    started, urls = [], {}
    log_dir = localstack.Path(settings.DATA_DIR) / "log"
    try:
        for name, chain_id in (("polygon", 137), ("bsc", 56)):
            process, port = harness.start_on_a_free_port(
                lambda port: localstack.start_anvil(port, log_path=log_dir / f"anvil-{name}.log",
                                                    chain_id=chain_id, name=f"anvil {name}"))
            started.append(process)
            urls[name] = f"http://127.0.0.1:{port}"
        yield urls
    finally:
        for process in started:
            process.stop()


@pytest.fixture(scope="session")
def smtp_server():
    (controller, store), port = harness.start_on_a_free_port(localstack.start_smtp_catcher, settings.EMAIL_PORT)
    if port != settings.EMAIL_PORT:
        harness.move_setting("EMAIL_PORT", port)
    yield store
    controller.stop()


@pytest.fixture
def mailbox(smtp_server, settings):
    """The messages received by the loopback SMTP server during this test. Django's test setup
    swaps in the in-memory mail backend; this puts the real SMTP backend back."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    smtp_server.clear()
    yield smtp_server.messages
    smtp_server.clear()


_usernames = itertools.count(1)


@pytest.fixture
def make_organization(db):
    """Create an organization (with its default chart of accounts) through the real service."""
    from core.organizations import organization_create

    names = itertools.count(1)

    def make(name=None, **settings):
        return organization_create(name=name or f"Org {next(names)}", **settings)

    return make


@pytest.fixture
def organization(make_organization):
    """The test's main organization ("Acme"): `make_user` puts users here unless told otherwise."""
    return make_organization("Acme")


@pytest.fixture
def make_user(db, organization):
    """Create a user with a role (USER, MANAGER or ADMIN) in `organization` (the test's main one
    unless `organization=` names another); password is `Passw0rd!long`."""
    from django.contrib.auth.models import Group

    from accounts.models import Role, User

    def make(role=Role.USER, **fields):
        fields.setdefault("organization", organization)
        n = next(_usernames)
        username = fields.pop("username", f"user{n}")
        user = User(
            username=username,
            email=fields.pop("email", f"{username}@example.test"),
            first_name=fields.pop("first_name", "Test"),
            last_name=fields.pop("last_name", f"User{n}"),
            role=role,
            is_staff=role in (Role.MANAGER, Role.ADMIN),
            email_verified=True,
            **fields,
        )
        user.set_password("Passw0rd!long")
        user.save()
        user.groups.add(Group.objects.get(name=role))  # as accounts.services.user_create does
        return user

    return make


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After pytest-django creates the test database, remember what migrate created (see harness)."""
    with django_db_blocker.unblock():
        harness.snapshot_reference_documents()


@pytest.fixture
def taxpayer(make_user, tmp_path):
    """User "taxpayer" (an accountant of the main organization) with the Koinly history worked by hand in tests/reporting/test_tax_report_command.py
    imported through the real command (which also books its automatic journals)."""
    from django.core.management import call_command

    from tests.reporting.test_tax_report_command import KOINLY

    user = make_user(username="taxpayer", is_accountant=True)  # reports need the books (core.permissions)
    source = tmp_path / "koinly.csv"
    source.write_text(KOINLY)
    call_command("import_transactions", str(source), user="taxpayer", format="universal", stdout=io.StringIO())
    return user


@pytest.fixture
def access_token_for(db):
    """Log a `make_user` user in through the real login service; returns their access token."""
    from accounts.sessions import session_login

    def issue(user, password="Passw0rd!long"):
        _, _, tokens = session_login(login=user.username, password=password, ip=None)
        return tokens.access_token

    return issue


# --- private keys never leave the server -------------------------------------------------------------
# Every private key the suite creates or imports is remembered when it is encrypted (or decrypted to
# sign); every HTTP response, log record and email of every test is searched for each of them. A test
# during which a key appeared fails, naming where. Log files are searched once at the end.
_KNOWN_KEYS: set[str] = set()
_LEAKS: list[str] = []


def _remember_key(hex_key: str) -> None:
    if isinstance(hex_key, str):
        bare = hex_key.lower().removeprefix("0x")
        if len(bare) == 64:
            _KNOWN_KEYS.add(bare)


def _scan(text, where: str) -> None:
    if not _KNOWN_KEYS or not text:
        return
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lowered = text.lower()
    for key in _KNOWN_KEYS:
        if key in lowered:
            _LEAKS.append(f"{where} contains private key {key[:6]}...")


class _LeakScanHandler(logging.Handler):
    def emit(self, record):
        try:
            text = record.getMessage()
            if record.exc_info:
                text += logging.Formatter().formatException(record.exc_info)
        except Exception:  # a record that cannot be formatted is not ours to judge
            return
        _scan(text, f"log record of {record.name}")


@pytest.fixture(scope="session", autouse=True)
def _private_key_leak_guard():
    from django.core.handlers.base import BaseHandler
    from django.core.mail.message import EmailMessage

    from wallets import keystore, transfers

    originals = (keystore.private_key_encrypt, keystore.private_key_decrypt, BaseHandler.get_response,
                 EmailMessage.message)

    def encrypt(private_key_hex):
        _remember_key(private_key_hex)
        return originals[0](private_key_hex)

    def decrypt(envelope):
        key = originals[1](envelope)
        _remember_key(key)
        return key

    def get_response(self, request):
        response = originals[2](self, request)
        if not getattr(response, "streaming", False):
            _scan(response.content, f"response to {request.method} {request.path}")
        return response

    def message(self):
        built = originals[3](self)
        _scan(built.as_string(), f"email {self.subject!r}")
        return built

    keystore.private_key_encrypt = encrypt
    keystore.private_key_decrypt = transfers.private_key_decrypt = decrypt
    BaseHandler.get_response = get_response
    EmailMessage.message = message
    handler = _LeakScanHandler(level=logging.DEBUG)
    loggers = [logging.getLogger(), logging.getLogger("security")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler, loggers
    for logger in loggers:
        logger.removeHandler(handler)
    keystore.private_key_encrypt = originals[0]
    keystore.private_key_decrypt = transfers.private_key_decrypt = originals[1]
    BaseHandler.get_response, EmailMessage.message = originals[2], originals[3]
    log_dir = Path(settings.LOG_DIR)
    for path in log_dir.glob("*.log") if log_dir.exists() else []:
        _scan(path.read_text(errors="replace"), f"log file {path.name}")
    assert not _LEAKS, "private keys leaked:\n" + "\n".join(_LEAKS)


@pytest.fixture(autouse=True)
def _no_private_key_in_this_test(_private_key_leak_guard):
    # A test that reconfigures logging (a command run in-process applies LOGGING again) drops the
    # guard's handler; put it back so every later test is still watched.
    handler, loggers = _private_key_leak_guard
    for logger in loggers:
        if handler not in logger.handlers:
            logger.addHandler(handler)
    before = len(_LEAKS)
    yield
    leaks = _LEAKS[before:]
    if leaks:
        del _LEAKS[before:]
        pytest.fail("private key leaked during this test:\n" + "\n".join(leaks), pytrace=False)
