"""Security headers on every page, strict CSP, and CORS for the API from the allow-list."""

import re

import pytest

pytestmark = pytest.mark.django_db


def csp_of(response):
    return dict(
        (part.split(" ", 1)[0], part.split(" ", 1)[1]) for part in response["Content-Security-Policy"].split("; ")
    )


@pytest.mark.parametrize("path", ["/app/login/", "/api/system/task-runs/", "/api/docs"])
def test_headers_everywhere(client, path):
    response = client.get(path)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "camera=()" in response["Permissions-Policy"]
    csp = csp_of(response)
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]


def test_nonce_is_fresh_per_request(client):
    first = csp_of(client.get("/app/login/"))["script-src"]
    second = csp_of(client.get("/app/login/"))["script-src"]
    assert re.search(r"'nonce-[\w-]{16,}'", first) and first != second


def test_admin_allows_eval_for_alpine_but_no_inline_script(client, make_user):
    client.force_login(make_user(role="ADMIN", is_superuser=True))
    csp = csp_of(client.get("/admin/"))
    assert "'unsafe-eval'" in csp["script-src"] and "'unsafe-inline'" not in csp["script-src"]


def test_cors_only_for_listed_origins(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    allowed = client.options("/api/system/health/", HTTP_ORIGIN="https://app.example.com",
                             HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert allowed.status_code == 204 and allowed["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Authorization" in allowed["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in allowed
    refused = client.get("/api/system/health/", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in refused
    not_api = client.get("/app/login/", HTTP_ORIGIN="https://app.example.com")
    assert "Access-Control-Allow-Origin" not in not_api


