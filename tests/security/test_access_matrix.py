"""The access matrix (Sentry-style): every HTTP endpoint, back-office page, admin page and WebSocket
route x {anonymous, USER, Accountant, MANAGER, ADMIN of organization A; USER, MANAGER, ADMIN of
organization B} x objects of A, against the expectations written once in `access_table.py`.

The endpoint lists come from the URL conf, the API's OpenAPI schema and the WebSocket routing, so an
endpoint missing from the table fails the suite. Each matrix test collects every violation and
fails listing them all: a leak (one of A's ids or A's secret marker in a response to B), a wrong
status, or any 5xx.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import uuid

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.security import access_table
from tests.security.access_table import A_ROLES, API, B_ROLES, PAGES, WEBSOCKETS
from tests.security.world import SECRET, build_world

pytestmark = pytest.mark.django_db

PARAM = re.compile(r"\{[^}]+\}")


# --- the table covers every endpoint ----------------------------------------------------------------

def api_endpoints() -> set[tuple[str, str]]:
    from config.api import api

    schema = api.get_openapi_schema()
    return {(method.upper(), path) for path, operations in schema["paths"].items() for method in operations}


def _walk(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith(("admin/", "api/")):
                continue
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def page_routes() -> set[str]:
    return set(_walk(get_resolver().url_patterns))


def websocket_routes() -> set[str]:
    from config.routing import websocket_urlpatterns

    return {"/" + str(pattern.pattern) for pattern in websocket_urlpatterns}


def test_every_api_endpoint_has_a_row():
    endpoints = api_endpoints()
    assert sorted(endpoints - set(API)) == [], "API endpoints missing from tests/security/access_table.py"
    assert sorted(set(API) - endpoints) == [], "rows of access_table.API for endpoints that no longer exist"


def test_every_page_has_a_row():
    pages = page_routes()
    rows = {path for _, path in PAGES}
    assert sorted(pages - rows) == [], "pages missing from tests/security/access_table.py"
    assert sorted(rows - pages) == [], "rows of access_table.PAGES for pages that no longer exist"


def test_every_websocket_route_has_a_row():
    assert websocket_routes() == set(WEBSOCKETS)


# --- the world ------------------------------------------------------------------------------------------

@pytest.fixture
def world(organization, make_organization, make_user, access_token_for, eth_node, settings):
    settings.AUTH_RATE_LIMIT_PER_IP = (10_000, 60)
    settings.AUTH_RATE_LIMIT_PER_ACCOUNT = (10_000, 60)
    world = build_world(organization=organization, make_organization=make_organization, make_user=make_user,
                        access_token_for=access_token_for)
    client = Client()
    for key, actor in world.actors.items():
        if actor.token:  # approve every session, so private-key operations reach their own rules
            response = actor.api(client, "POST", "/api/auth/confirm-password/", {"password": "Passw0rd!long"})
            assert response.status_code == 200, (key, response.content)
    return world


def _fill(text: str, world, obj_id: str | None) -> str:
    text = text.replace("{wallet}", world.objects["wallet"]).replace("{b_user}", world.objects["b_user"])
    text = text.replace("{wallet_address}", world.objects.get("wallet_address", ""))
    return PARAM.sub(obj_id, text) if obj_id is not None else text


def _fill_body(body, world):
    return None if body is None else json.loads(_fill(json.dumps(body), world, None))


def _leaks(content: bytes, world) -> list[str]:
    text = content.decode("utf-8", "replace")
    found = [SECRET] if SECRET in text else []
    found += [i for i in world.ids_of_a if i in text]
    return found


class Checker:
    def __init__(self, world, surface: str):
        self.world = world
        self.surface = surface
        self.violations: list[str] = []
        self.calls = 0

    def fail(self, method, path, actor, response, why):
        body = response.content[:200] if response is not None else b""
        self.violations.append(f"[{self.surface}] {method} {path} as {actor}: {why} "
                               f"(got {getattr(response, 'status_code', None)} {body!r})")

    def check(self, method, path, rule, actor_key, response, *, obj_id):
        self.calls += 1
        status = response.status_code
        if status >= 500:
            return self.fail(method, path, actor_key, response, "server error")
        actor = self.world.actor(actor_key)
        if actor.org == "B":
            leaks = _leaks(response.content, self.world)
            if rule.extra.get("chain_data"):  # addresses read from the node are public chain data
                leaks = [leak for leak in leaks if not leak.startswith("0x")]
            if leaks:
                return self.fail(method, path, actor_key, response, f"LEAK of organization A: {leaks[:3]}")
        if actor_key == "anonymous":
            return self.check_anonymous(method, path, rule, response)
        if rule.public:
            return None
        if actor.org == "B":
            if rule.obj and obj_id is not None and rule.obj not in ("category", "chain_tx", "statement_slug"):
                wanted = (404,) if actor.role in rule.allow else (403, 404)
                if status not in wanted:
                    self.fail(method, path, actor_key, response, f"another organization's object: want {wanted}")
            elif actor.role in rule.allow and status in (401, 403, 404):
                self.fail(method, path, actor_key, response, "allowed role of its own organization refused")
            elif actor.role not in rule.allow and status != rule.denied and status not in (403,):
                self.fail(method, path, actor_key, response, f"want {rule.denied}")
            return None
        if actor.role in rule.allow:
            if status in (401, 403, 404):
                self.fail(method, path, actor_key, response, "allowed role refused")
        elif status != rule.denied:
            self.fail(method, path, actor_key, response, f"want {rule.denied}")
        return None

    def check_anonymous(self, method, path, rule, response):
        status = response.status_code
        if self.surface == "api":
            # (a public endpoint may answer 401 itself: wrong credentials on login, a bad refresh token)
            if not rule.public and status != 401:
                self.fail(method, path, "anonymous", response, "want 401")
        elif not rule.public and not (status == 302 and "/login" in response.get("Location", "")):
            self.fail(method, path, "anonymous", response, "want a redirect to the login page")


CALLERS = ("anonymous", *(f"B:{r}" for r in B_ROLES), *(f"A:{r}" for r in A_ROLES))


def _ordered(table):
    # Destructive rows last; leaving the organization and logging out at the very end (they change
    # who the callers are).
    def last(path):
        return "leave" in path or "logout" in path

    return sorted(table.items(), key=lambda item: (item[1].destructive, last(item[0][1]), "logout" in item[0][1]))


def _run(table, world, send, surface):
    checker = Checker(world, surface)
    for (method, path), rule in _ordered(table):
        obj_id = None
        if rule.obj:
            fresh = world.make_fresh.get(rule.obj) if rule.destructive else None
            obj_id = fresh() if fresh else world.objects[rule.obj]
        url = _fill(path, world, obj_id)
        succeeded = False
        for actor_key in CALLERS:
            actor = world.actor(actor_key)
            if rule.destructive and succeeded and actor.org == "A":
                continue
            response = send(actor, method, url, rule)
            checker.check(method, path, rule, actor_key, response, obj_id=obj_id)
            if actor.org == "A" and actor.role in rule.allow and response.status_code < 400:
                succeeded = True
    return checker


def test_api_matrix(world):
    client = Client()
    csv = ("Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,"
           "Net Worth Amount,Net Worth Currency,Label,Description,TxHash\n"
           "2026-01-05 10:00:00,,,0.1,ETH,,,200,USD,,matrix,\n")
    keys = itertools.count()

    def send(actor, method, url, rule):
        if rule.extra.get("multipart"):
            headers = {"HTTP_AUTHORIZATION": f"Bearer {actor.token}"} if actor.token else {}
            upload = SimpleUploadedFile("matrix.csv", csv.encode(), content_type="text/csv")
            return client.post(url, {"file": upload}, **headers)
        extra = {"HTTP_IDEMPOTENCY_KEY": f"matrix-{next(keys)}-{uuid.uuid4().hex}"} if rule.extra.get("idempotency") else {}
        query = ("?" + _fill(rule.query, world, None)) if rule.query else ""
        return actor.api(client, method, url + query, _fill_body(rule.body, world), **extra)

    checker = _run(API, world, send, "api")
    assert checker.violations == [], f"{len(checker.violations)} violations in {checker.calls} calls:\n" + \
        "\n".join(checker.violations)


def test_page_matrix(world):
    clients: dict[str, Client] = {}

    def client_for(actor):
        if actor.key not in clients:
            clients[actor.key] = Client()
            if actor.user is not None:
                clients[actor.key].force_login(actor.user)
        return clients[actor.key]

    def send(actor, method, url, rule):
        client = client_for(actor)
        if method == "GET":
            return client.get(url, HTTP_HX_REQUEST="true") if "/row/" in url or "value-chart" in url else client.get(url)
        return client.post(url, _fill_body(rule.body, world) or {})

    checker = _run(PAGES, world, send, "page")
    assert checker.violations == [], f"{len(checker.violations)} violations in {checker.calls} calls:\n" + \
        "\n".join(checker.violations)


def test_admin_matrix(world):
    """Every model's changelist and A's objects' change pages, as staff of B: nothing of A shown."""
    violations, calls = [], 0
    staff_of_b = {key: world.actor(key) for key in ("B:manager", "B:admin")}
    staff_of_a = world.actor("A:manager")
    acme = staff_of_a.user.organization_id
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        field_names = {f.name for f in opts.get_fields()}
        if "organization" in field_names:
            objects_of_a = list(model._default_manager.filter(organization_id=acme)[:3])
        elif "user" in field_names:
            objects_of_a = list(model._default_manager.filter(user__organization_id=acme)[:3])
        else:
            objects_of_a = []
        for key, actor in staff_of_b.items():
            client = Client()
            client.force_login(actor.user)
            response = client.get(changelist)
            calls += 1
            if response.status_code >= 500:
                violations.append(f"{changelist} as {key}: {response.status_code}")
            elif response.status_code == 200 and _leaks(response.content, world):
                violations.append(f"LEAK {changelist} as {key}: {_leaks(response.content, world)[:3]}")
            for obj in objects_of_a:
                change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
                response = client.get(change)
                calls += 1
                if response.status_code == 200 or response.status_code >= 500:
                    violations.append(f"{change} (an object of A) as {key}: {response.status_code}")
    assert violations == [], f"{len(violations)} violations in {calls} admin calls:\n" + "\n".join(violations)


# --- WebSockets ----------------------------------------------------------------------------------------

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


@pytest.mark.django_db(transaction=True)
async def test_websocket_matrix(world):
    from channels.db import database_sync_to_async
    from channels.layers import get_channel_layer
    from channels.testing import WebsocketCommunicator
    from django.conf import settings

    from config.asgi import application
    from core.realtime import (EVENT_MESSAGE_TYPE, Audience, StaffFeed, organization_group, relay_stop,
                               staff_feed_group, user_group)

    def cookie_for(user):
        client = Client()
        client.force_login(user)
        return client.cookies[settings.SESSION_COOKIE_NAME].value

    violations = []
    open_sockets = []
    try:
        for route, allowed in WEBSOCKETS.items():
            for key in CALLERS:
                actor = world.actor(key)
                headers = [ORIGIN]
                if actor.user is not None:
                    cookie = await database_sync_to_async(cookie_for)(actor.user)
                    headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
                communicator = WebsocketCommunicator(application, route, headers=headers)
                connected, _ = await communicator.connect(timeout=60)
                first = await communicator.receive_output(timeout=60) if connected else {"type": "websocket.close"}
                joined = first.get("type") == "websocket.send" and json.loads(first["text"]).get("type") == "connected"
                may = actor.org is not None and actor.role in allowed
                if joined != may:
                    violations.append(f"{route} as {key}: connected={joined}, want {may}")
                if joined:
                    open_sockets.append((route, key, communicator))
                else:
                    await communicator.disconnect()
        a_org = world.actor("A:manager").user.organization_id
        a_user = world.actor("A:user").user
        groups = {
            user_group(a_user.pk): {("/ws/live/", "A:user"), ("/ws/notifications/", "A:user")},
            organization_group(a_org, Audience.MEMBERS): {("/ws/live/", f"A:{r}") for r in A_ROLES},
            organization_group(a_org, Audience.BOOKS): {("/ws/live/", f"A:{r}") for r in ("accountant", "manager", "admin")},
            organization_group(a_org, Audience.STAFF): {("/ws/live/", f"A:{r}") for r in ("manager", "admin")},
            **{staff_feed_group(a_org, feed): {(f"/ws/admin/{feed}/", f"A:{r}") for r in ("manager", "admin")}
               for feed in (StaffFeed.TASK_LOGS, StaffFeed.DASHBOARD_STATS, StaffFeed.USER_MANAGEMENT,
                            StaffFeed.MANAGER_VERIFICATION)},
        }
        layer = get_channel_layer()
        for group, audience in groups.items():
            await layer.group_send(group, {"type": EVENT_MESSAGE_TYPE, "event_type": "matrix.probe",
                                           "payload": {"secret": SECRET, "group": group}})
            for route, key, communicator in open_sockets:
                got = []
                while not await communicator.receive_nothing(timeout=0.05):
                    got.append(await communicator.receive_json_from(timeout=1))
                probes = [m for m in got if m.get("type") == "matrix.probe"]
                if (route, key) in audience and not probes:
                    violations.append(f"{group}: {key} on {route} did not receive it")
                if (route, key) not in audience and probes:
                    violations.append(f"LEAK {group}: {key} on {route} received it")
    finally:
        for *_, communicator in open_sockets:
            await communicator.disconnect()
        await relay_stop()
    assert violations == [], "\n".join(violations)
