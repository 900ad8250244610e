"""Fixtures on real parts: database (pytest-django on the embedded server), anvil, SMTP, users, clients."""

import itertools
import os

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
    process = localstack.start_anvil(
        settings.EMBEDDED_ETH_PORT, log_path=localstack.Path(settings.DATA_DIR) / "log" / "anvil.log"
    )
    yield settings.ETH_RPC_URL
    process.stop()


@pytest.fixture(scope="session")
def smtp_server():
    controller, store = localstack.start_smtp_catcher(settings.EMAIL_PORT)
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
def make_user(db):
    """Create a user with a role (USER, MANAGER or ADMIN); password is `Passw0rd!long`."""
    from django.contrib.auth.models import Group

    from accounts.models import Role, User

    def make(role=Role.USER, **fields):
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
def access_token_for(db):
    """Log a `make_user` user in through the real login service; returns their access token."""
    from accounts.sessions import session_login

    def issue(user, password="Passw0rd!long"):
        _, _, tokens = session_login(login=user.username, password=password, ip=None)
        return tokens.access_token

    return issue
