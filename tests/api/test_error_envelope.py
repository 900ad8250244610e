"""Every API error is {"error": {"code", "message", "details"}} with the right status."""

import json

import pytest
from bson import ObjectId
from django.test import Client, override_settings

from accounts.tokens import access_token_issue
from core.models import TaskRun

pytestmark = [pytest.mark.urls("tests.api.urls"), pytest.mark.django_db]


def error_of(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]


@pytest.fixture
def bearer(access_token_for):
    return lambda user: {"HTTP_AUTHORIZATION": f"Bearer {access_token_for(user)}"}


def test_validation_error_lists_each_field(client, make_user, bearer):
    user = make_user()
    response = client.post("/api/probe/echo/", {"name": 5, "amount": "many"}, content_type="application/json",
                           **bearer(user))
    error = error_of(response, 422)
    assert error["code"] == "validation_error"
    locations = {tuple(f["location"][-1:]) for f in error["details"]["fields"]}
    assert ("amount",) in locations and ("name",) in locations


def test_missing_field_is_a_validation_error(client, make_user, bearer):
    response = client.post("/api/probe/echo/", {"name": "x"}, content_type="application/json",
                           **bearer(make_user()))
    assert error_of(response, 422)["details"]["fields"][0]["location"][-1] == "amount"


def test_malformed_json_is_400(client, make_user, bearer):
    response = client.post("/api/probe/echo/", "{not json", content_type="application/json", **bearer(make_user()))
    assert error_of(response, 400)["code"] == "malformed_json"


def test_unknown_api_path_is_404_envelope(client):
    assert error_of(client.get("/api/no/such/thing/"), 404)["code"] == "not_found"


def test_wrong_method_is_405_envelope_with_allow(client):
    response = client.delete("/api/system/health/")
    error = error_of(response, 405)
    assert error["code"] == "method_not_allowed"
    assert "GET" in error["details"]["allowed_methods"]


def test_unauthenticated_is_401(client):
    response = client.post("/api/probe/echo/", {"name": "a", "amount": 1}, content_type="application/json")
    assert error_of(response, 401)["code"] == "not_authenticated"


def test_jwt_bearer_authenticates(client, make_user, bearer):
    user = make_user(username="jwtuser")
    response = client.post("/api/probe/echo/", {"name": "a", "amount": 1}, content_type="application/json",
                           **bearer(user))
    assert response.status_code == 200 and response.json()["user"] == "jwtuser"


@pytest.mark.parametrize("kind", ["expired", "forged", "alg_none", "garbage", "inactive_user", "no_session",
                                  "ended_session"])
def test_bad_tokens_are_401(client, make_user, kind, settings):
    import jwt

    user = make_user()
    from accounts.models import UserSession
    from accounts.sessions import session_login

    _, session, tokens = session_login(login=user.username, password="Passw0rd!long", ip=None)
    if kind == "expired":
        token = access_token_issue(user_id=user.pk, session_id=session.pk, ttl_seconds=-10)
    elif kind == "forged":
        token = jwt.encode({"sub": str(user.pk), "typ": "access", "iat": 0, "exp": 4102444800}, "not-our-key",
                           algorithm="HS256")
    elif kind == "alg_none":
        token = jwt.encode({"sub": str(user.pk), "typ": "access", "iat": 0, "exp": 4102444800}, None,
                           algorithm="none")
    elif kind == "garbage":
        token = "abc.def.ghi"
    elif kind == "inactive_user":
        token = tokens.access_token
        user.is_active = False
        user.save()
    elif kind == "no_session":
        token = access_token_issue(user_id=user.pk)
    else:  # the session was ended (logout, newer login)
        token = tokens.access_token
        UserSession.objects.filter(pk=session.pk).update(is_active=False)
    response = client.post("/api/probe/echo/", {"name": "a", "amount": 1}, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {token}")
    assert error_of(response, 401)["code"] == "not_authenticated"


def test_session_writes_need_csrf(make_user):
    user = make_user(role="MANAGER")
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(user)
    response = csrf_client.post("/api/probe/echo/", {"name": "a", "amount": 1}, content_type="application/json")
    assert response.status_code in (401, 403)
    assert error_of(response, response.status_code)["code"] in ("not_authenticated", "csrf_failed", "permission_denied")
    csrf_client.get("/app/")  # a page with a form sets the csrftoken cookie
    token = csrf_client.cookies["csrftoken"].value
    response = csrf_client.post("/api/probe/echo/", {"name": "a", "amount": 1}, content_type="application/json",
                                HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200


def test_staff_endpoint_refuses_non_staff(client, make_user):
    client.force_login(make_user(role="USER"))
    assert error_of(client.get("/api/system/task-runs/"), 403)["code"] == "permission_denied"


def test_permission_denied_is_403(client):
    assert error_of(client.get("/api/probe/forbidden/"), 403)["code"] == "permission_denied"


def test_integrity_error_is_409(client):
    error = error_of(client.get("/api/probe/conflict/"), 409)
    assert error["code"] == "conflict" and "E11000" not in json.dumps(error)


def test_rate_limited_is_429_with_retry_after(client):
    response = client.get("/api/probe/limited/")
    assert error_of(response, 429)["details"]["retry_after_seconds"] == 42
    assert response["Retry-After"] == "42"


def test_domain_error_keeps_code_and_details(client):
    error = error_of(client.get("/api/probe/domain/"), 409)
    assert error["code"] == "session_not_approved"
    assert error["details"] == {"approve_at": "/api/auth/confirm-password/"}


@override_settings(DEBUG=False)
def test_unhandled_error_is_500_without_internals(client):
    response = client.get("/api/probe/boom/")
    error = error_of(response, 500)
    assert error["code"] == "internal_error"
    assert b"secret-internal-detail" not in response.content and b"Traceback" not in response.content


def test_malformed_object_id_is_404(client, make_user):
    client.force_login(make_user())
    assert error_of(client.get("/api/probe/task-runs/not-an-id/"), 404)["code"] == "not_found"
    assert error_of(client.get("/api/probe/task-runs/" + "z" * 24 + "/"), 404)["code"] == "not_found"


def test_unknown_and_foreign_object_ids_are_404(client, make_user):
    owner, other = make_user(), make_user()
    run = TaskRun.objects.create(name="mine", triggered_by=owner)
    client.force_login(other)
    assert error_of(client.get(f"/api/probe/task-runs/{run.pk}/"), 404)["code"] == "not_found"
    assert error_of(client.get(f"/api/probe/task-runs/{ObjectId()}/"), 404)["code"] == "not_found"
    client.force_login(owner)
    response = client.get(f"/api/probe/task-runs/{run.pk}/")
    assert response.status_code == 200 and response.json() == {"id": str(run.pk), "name": "mine"}
