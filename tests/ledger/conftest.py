"""Ledger fixtures: the main organization ("Acme", with the default chart it got when it was made),
users of each role with an API caller, and entry helpers."""

import pymongo.monitoring
import pytest

from accounts.models import Role


@pytest.fixture
def chart(organization):
    """The main organization: its default chart was made with it (organization_created)."""
    return organization


class Caller:
    def __init__(self, client, user, token):
        self.client, self.user, self.token = client, user, token

    def __call__(self, method, path, data=None):
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}
        if method in ("get", "delete"):
            return getattr(self.client, method)(path, data or {}, **kwargs) if method == "get" else \
                self.client.delete(path, **kwargs)
        return getattr(self.client, method)(path, data, content_type="application/json", **kwargs)


@pytest.fixture
def api_as(make_user, access_token_for, client):
    """api_as(Role.MANAGER) -> a Caller: caller("post", "/api/...", body) with that user's token."""

    def make(role=Role.USER, **fields):
        user = make_user(role=role, **fields)
        return Caller(client, user, access_token_for(user))

    return make


@pytest.fixture
def manager_api(api_as, chart):
    return api_as(Role.MANAGER)


@pytest.fixture
def user_api(api_as, chart):
    return api_as(Role.USER)


@pytest.fixture
def admin_api(api_as, chart):
    return api_as(Role.ADMIN)


@pytest.fixture
def accountant_api(api_as, chart):
    """A plain USER with the Accountant flag."""
    return api_as(Role.USER, is_accountant=True)


def entry_body(amount="100", debit="1110", credit="3100", date="2026-03-01", **fields):
    return {"date": date, "description": fields.pop("description", "Owner puts in capital"),
            "line_items": [{"account_code": debit, "debit_amount": amount},
                           {"account_code": credit, "credit_amount": amount}], **fields}


class _CommandCounter(pymongo.monitoring.CommandListener):
    """A pymongo listener counting the commands sent to the server while `active` (every round
    trip, including raw aggregations that CaptureQueriesContext does not see)."""

    def __init__(self):
        self.active = None

    def started(self, event):
        if self.active is not None and event.command_name not in ("endSessions", "hello", "isMaster", "ping"):
            self.active.append(event.command_name)

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


# Registered when this conftest is imported, before any test opens the database client, so the
# listener reaches the one client every test shares (closing that client to add a listener left
# other code holding a closed client: the live-socket tests met it on a shared worker).
_counter = _CommandCounter()
pymongo.monitoring.register(_counter)


@pytest.fixture
def mongo_commands(db):
    """`with mongo_commands() as commands:` -> the names of the database commands sent inside the block."""
    import contextlib

    from django.db import connection

    @contextlib.contextmanager
    def capture():
        connection.ensure_connection()
        _counter.active = []
        try:
            yield _counter.active
        finally:
            _counter.active = None

    return capture
