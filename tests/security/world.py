"""Two organizations for the access matrix, built through the real API as their own members would.

Organization A ("Acme") has a plain user, an accountant, a manager and an admin, and one object of
every kind, each named with A's secret marker; organization B ("Borealis") has a user, a manager and
an admin and nothing else. Objects are made through the API by the member who would make them, so
the matrix exercises the same paths as a real client.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.test import Client

from tests.security.rows import app_row_modules

SECRET = "ACMESECRET7F3A"  # in the name or description of every object of A


@dataclass
class Actor:
    key: str  # "A:user", "B:manager", "anonymous"
    role: str | None
    org: str | None
    user: object = None
    token: str | None = None

    def api(self, client: Client, method: str, path: str, body=None, **extra):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}
        if body is None:
            return client.generic(method, path, **headers, **extra)
        return client.generic(method, path, json.dumps(body), content_type="application/json", **headers, **extra)


@dataclass
class World:
    actors: dict[str, Actor]
    objects: dict[str, str] = field(default_factory=dict)  # kind -> id (or value) in A
    ids_of_a: set[str] = field(default_factory=set)  # every id made in A: must never reach B
    make_fresh: dict = field(default_factory=dict)  # kind -> callable making a new object of A

    def actor(self, key: str) -> Actor:
        return self.actors[key]


def _ok(response, what: str) -> dict:
    assert response.status_code in (200, 201, 202), f"building the matrix world: {what}: {response.status_code} " \
                                                     f"{response.content[:500]!r}"
    return response.json() if response.content else {}


def build_world(*, organization, make_organization, make_user, access_token_for, eth_node=None) -> World:
    from accounts.notifications import notification_create
    from core.permissions import Role

    from decimal import Decimal

    from wallets.models import Cryptocurrency

    from wallets.models import PriceQuote

    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum", "current_price": Decimal("2500")})
    PriceQuote.objects.create(symbol="ETH", fiat="USD", day=None, price=Decimal("2500"), source="coingecko")
    client = Client()
    acme = organization
    acme.name = f"Acme {SECRET}"
    acme.save(update_fields=["name"])
    borealis = make_organization("Borealis")
    members = {
        "A:user": make_user(Role.USER, organization=acme, username="a_user"),
        "A:accountant": make_user(Role.USER, organization=acme, username="a_accountant", is_accountant=True),
        "A:manager": make_user(Role.MANAGER, organization=acme, username="a_manager"),
        "A:admin": make_user(Role.ADMIN, organization=acme, username="a_admin"),
        "B:user": make_user(Role.USER, organization=borealis, username="b_user"),
        "B:manager": make_user(Role.MANAGER, organization=borealis, username="b_manager"),
        "B:admin": make_user(Role.ADMIN, organization=borealis, username="b_admin"),
    }
    # Someone of a third organization, whom A invites (an invitation to B's people would rightly
    # show A's name to them).
    outsider = make_user(Role.ADMIN, organization=make_organization("Outside"), username="c_outsider")
    actors = {"anonymous": Actor("anonymous", None, None)}
    for key, user in members.items():
        org, role = key.split(":")
        actors[key] = Actor(key, role, org, user, access_token_for(user))
    world = World(actors=actors)
    a_user, a_accountant, a_manager, a_admin = (actors[f"A:{r}"] for r in ("user", "accountant", "manager", "admin"))

    def remember(kind, value):
        # The first object of a kind is the one the matrix names; later ones are fresh targets for
        # destructive rows, so deleting one never removes what another row needs.
        world.objects.setdefault(kind, str(value))
        world.ids_of_a.add(str(value))
        return str(value)

    def new_wallet():
        body = _ok(a_user.api(client, "POST", "/api/wallets/", {"name": f"wallet {SECRET}"}), "wallet")
        world.objects.setdefault("wallet_address", body["address"])
        world.ids_of_a.add(body["address"])
        return remember("wallet", body["id"])

    def new_transaction():
        body = _ok(a_user.api(client, "POST", "/api/transactions/", {
            "wallet_id": world.objects["wallet"], "asset": "ETH", "transaction_type": "BUY", "amount": "1.5",
            "transaction_date": "2026-01-15T10:00:00Z", "price_at_transaction": "2000",
            "description": f"buy {SECRET}"}), "transaction")
        return remember("transaction", body["id"])

    def new_alert():
        body = _ok(a_user.api(client, "POST", "/api/exchange-rates/alerts/",
                              {"asset": "ETH", "direction": "above", "threshold": "123456"}), "alert")
        return remember("alert", body["id"])

    def new_notification():
        notification = notification_create(user=members["A:user"], title=f"note {SECRET}", message=SECRET)
        return remember("notification", notification.pk)

    codes = iter(range(1900, 1990))

    def new_account():
        body = _ok(a_admin.api(client, "POST", "/api/accounts/", {
            "account_code": str(next(codes)), "account_name": f"cash {SECRET}", "account_type": "asset"}), "account")
        return remember("account", body["id"])

    def new_entry():
        body = _ok(a_accountant.api(client, "POST", "/api/journal-entries/", {
            "date": "2026-02-01", "description": f"entry {SECRET}", "line_items": [
                {"account_code": "1110", "debit_amount": "25.00", "description": SECRET},
                {"account_code": "3100", "credit_amount": "25.00"}]}), "entry")
        return remember("entry", body["id"])

    def new_posted_entry():
        entry_id = new_entry()
        body = _ok(a_manager.api(client, "POST", f"/api/journal-entries/{entry_id}/post/"), "post entry")
        # (entry numbers are per organization: B has its own JE-2026-000001, so they are no marker)
        return remember("posted_entry", entry_id)

    def new_tax_report():
        body = _ok(a_admin.api(client, "POST", "/api/tax-reports/yearly/", {"year": 2026}), "tax report")
        return remember("tax_report", body["id"])

    def new_statement():
        body = _ok(a_admin.api(client, "POST", "/api/reports/balance-sheet/", {"as_of": "2026-06-30"}), "statement")
        return remember("statement", body["id"])

    def new_employee():
        employee = make_user(Role.USER, organization=acme, manager=members["A:manager"],
                             department=SECRET)
        return remember("employee", employee.pk)

    def new_invitation():
        body = _ok(a_manager.api(client, "POST", "/api/auth/invitations/",
                                 {"email": f"invitee{next(codes)}@outside.test", "role": "USER"}), "invitation")
        return remember("invitation", body["id"])

    world.make_fresh = {
        "wallet": new_wallet, "transaction": new_transaction, "alert": new_alert, "notification": new_notification,
        "account": new_account, "entry": new_entry, "posted_entry": new_posted_entry, "tax_report": new_tax_report,
        "statement": new_statement, "employee": new_employee, "invitation": new_invitation,
    }
    kit = SimpleNamespace(client=client, actors=actors, members=members, ok=_ok, remember=remember,
                          objects=world.objects)
    for module in app_row_modules():
        if hasattr(module, "make_fresh"):
            world.make_fresh.update(module.make_fresh(kit))
    for make in world.make_fresh.values():
        make()
    remember("manager", members["A:manager"].pk)
    from core.models import TaskRun

    remember("task_run", TaskRun.objects.for_organization(acme.pk).order_by("-created_at").first().pk)
    for key in ("A:user", "A:accountant", "A:manager", "A:admin"):
        world.ids_of_a.add(str(members[key].pk))
    world.objects["category"] = "business"
    from wallets import chain

    # A real transaction on the node: funding A's wallet (chain data is public; what A recorded is not).
    world.objects["chain_tx"] = chain.eth_send_from_dev_account(to=world.objects["wallet_address"],
                                                                amount_wei=chain.eth_to_wei(Decimal("1")))
    world.objects["statement_slug"] = "balance-sheet"
    world.objects["b_user"] = outsider.username
    return world
