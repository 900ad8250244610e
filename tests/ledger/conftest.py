"""Ledger fixtures: the default chart, users of each role with an API caller, and entry helpers."""

import pytest

from accounts.models import Role


@pytest.fixture
def chart(db):
    from ledger.services import chart_of_accounts_ensure_default

    chart_of_accounts_ensure_default()


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


def entry_body(amount="100", debit="1110", credit="3100", date="2026-03-01", **fields):
    return {"date": date, "description": fields.pop("description", "Owner puts in capital"),
            "line_items": [{"account_code": debit, "debit_amount": amount},
                           {"account_code": credit, "credit_amount": amount}], **fields}
