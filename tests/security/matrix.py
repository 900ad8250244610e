"""The access matrix's machinery (tests/security/test_access_matrix*.py): the endpoint lists read from
the URL conf, the API's OpenAPI schema and the WebSocket routing; the callers; filling a row's path
and body with the world's objects; the checker that collects every violation (a leak of organization
A's ids or secret marker to B, a wrong status, any 5xx)."""

from __future__ import annotations

import json
import re

from django.urls import URLPattern, URLResolver, get_resolver

from tests.security.access_table import A_ROLES, B_ROLES
from tests.security.world import SECRET

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



def fill(text: str, world, obj_id: str | None) -> str:
    text = text.replace("{wallet}", world.objects["wallet"]).replace("{b_user}", world.objects["b_user"])
    text = text.replace("{wallet_address}", world.objects.get("wallet_address", ""))
    return PARAM.sub(obj_id, text) if obj_id is not None else text


def fill_body(body, world):
    return None if body is None else json.loads(fill(json.dumps(body), world, None))


def leaks(content: bytes, world) -> list[str]:
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
            found = leaks(response.content, self.world)
            if rule.extra.get("chain_data"):  # addresses read from the node are public chain data
                found = [leak for leak in found if not leak.startswith("0x")]
            if found:
                return self.fail(method, path, actor_key, response, f"LEAK of organization A: {found[:3]}")
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


def run_matrix(table, world, send, surface):
    checker = Checker(world, surface)
    for (method, path), rule in _ordered(table):
        obj_id = None
        if rule.obj:
            fresh = world.make_fresh.get(rule.obj) if rule.destructive else None
            obj_id = fresh() if fresh else world.objects[rule.obj]
        url = fill(path, world, obj_id)
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

