"""The access matrix (Sentry-style): every HTTP endpoint, back-office page, admin page and WebSocket
route x {anonymous, USER, Accountant, MANAGER, ADMIN of organization A; USER, MANAGER, ADMIN of
organization B} x objects of A, against the expectations written once in `access_table.py`.

The endpoint lists come from the URL conf, the API's OpenAPI schema and the WebSocket routing, so an
endpoint missing from the table fails the suite. Each matrix test collects every violation and
fails listing them all: a leak (one of A's ids or A's secret marker in a response to B), a wrong
status, or any 5xx.

The matrix is four files (API, pages, admin, WebSockets) so the test workers share it out; the
machinery is tests/security/matrix.py, the world tests/security/conftest.py.
"""

from __future__ import annotations

import itertools
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.security.access_table import API, PAGES, WEBSOCKETS
from tests.security.matrix import fill, fill_body, run_matrix, api_endpoints, page_routes, websocket_routes

pytestmark = pytest.mark.django_db


# --- the table covers every endpoint ----------------------------------------------------------------

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
        query = ("?" + fill(rule.query, world, None)) if rule.query else ""
        return actor.api(client, method, url + query, fill_body(rule.body, world), **extra)

    checker = run_matrix(API, world, send, "api")
    assert checker.violations == [], f"{len(checker.violations)} violations in {checker.calls} calls:\n" + \
        "\n".join(checker.violations)

