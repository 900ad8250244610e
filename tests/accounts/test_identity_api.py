"""/api/auth/: registration and verification, login, tokens, single session, lockout, rate limits,
password reset and change, profile, session approval. Emails go through a real SMTP server."""

import re

import pytest
from django.test import Client

from accounts.models import AuditLogEntry, Notification, User, UserSession
from accounts.sessions import require_approved_session
from core.errors import DomainError

pytestmark = pytest.mark.django_db

STRONG = "Gr33n!Ledger#42"


def post(client, path, data, token=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(f"/api/auth/{path}", data, content_type="application/json", **headers)


def code_of(response):
    return response.json()["error"]["code"]


def register(client, username="nina", email="nina@example.test", password=STRONG, **extra):
    return post(client, "register/", {"username": username, "email": email, "password": password,
                                      "first_name": "Nina", "last_name": "North", **extra})


def token_from(message, path):
    body = message.get_payload(decode=True).decode() if not message.is_multipart() else message.get_payload()[0].get_payload()
    match = re.search(re.escape(path) + r"\?token=([^\s]+)", body)
    assert match, body
    return match.group(1)


def login(client, username="nina", password=STRONG):
    return post(client, "login/", {"username": username, "password": password})


def verified_user(client, mailbox, username="nina"):
    assert register(client, username=username, email=f"{username}@example.test").status_code == 201
    token = token_from(mailbox[-1], "/app/verify-email/")
    assert post(client, "verify-email/", {"token": token}).status_code == 200
    return User.objects.get(username=username)


# --- registration and verification -----------------------------------------------------------------
def test_register_sends_a_verification_email_and_login_waits_for_it(client, mailbox):
    response = register(client)
    assert response.status_code == 201
    body = response.json()
    assert body["username"] == "nina" and body["email_verified"] is False
    # A new organization, named after her (no company given), with her as its ADMIN.
    assert body["role"] == "ADMIN" and body["organization"]["name"] == "Nina North"
    assert "password" not in body and "verification_token" not in body
    assert len(mailbox) == 1 and mailbox[0]["To"] == "nina@example.test"
    assert code_of(login(client)) == "email_not_verified"

    token = token_from(mailbox[0], "/app/verify-email/")
    assert token not in User.objects.get(username="nina").verification_token  # only the hash is stored
    assert post(client, "verify-email/", {"token": token}).json()["email_verified"] is True
    assert login(client).status_code == 200


def test_verification_token_is_single_use(client, mailbox):
    register(client)
    token = token_from(mailbox[0], "/app/verify-email/")
    assert post(client, "verify-email/", {"token": token}).status_code == 200
    response = post(client, "verify-email/", {"token": token})
    assert response.status_code == 400 and code_of(response) == "invalid_token"


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "6553f1c2a4b5c6d7e8f90123.99999999999.x"])
def test_forged_verification_tokens_are_refused(client, token):
    assert code_of(post(client, "verify-email/", {"token": token})) == "invalid_token"


def test_expired_verification_token(client, mailbox, settings):
    settings.EMAIL_VERIFICATION_TTL_SECONDS = -5
    register(client)
    response = post(client, "verify-email/", {"token": token_from(mailbox[0], "/app/verify-email/")})
    assert response.status_code == 400 and code_of(response) == "token_expired"
    assert not User.objects.get(username="nina").email_verified


def test_resend_verification_is_rate_limited_and_says_the_same_for_unknown(client, mailbox):
    register(client)
    for _ in range(3):
        response = post(client, "resend-verification/", {"email": "nina@example.test"})
        assert response.status_code == 202
    assert len(mailbox) == 4
    assert post(client, "resend-verification/", {"email": "nina@example.test"}).status_code == 429
    unknown = post(client, "resend-verification/", {"email": "nobody@example.test"})
    assert unknown.status_code == 202 and len(mailbox) == 4


@pytest.mark.parametrize("password", ["Sh0rt!A", "alllowercase1!", "ALLUPPER1!X", "NoDigits!!xx", "NoSymbol123x",
                                      "Password1!", "nina.north.1!N"])
def test_weak_passwords_are_refused_with_details(client, password):
    response = register(client, password=password)
    assert response.status_code == 422 and code_of(response) == "validation_error"
    fields = response.json()["error"]["details"]["fields"]
    assert fields and all(field["location"] == ["body", "password"] and field["message"] for field in fields)
    assert not User.objects.filter(username="nina").exists()


def test_duplicate_username_or_email_is_409(client, mailbox):
    register(client)
    response = register(client, email="other@example.test")
    assert response.status_code == 409 and response.json()["error"]["details"]["field"] == "username"
    response = register(client, username="other", email="NINA@example.test")
    assert response.status_code == 409 and response.json()["error"]["details"]["field"] == "email"


@pytest.mark.parametrize("change", [{"role": "ADMIN"}, {"is_staff": True}, {"username": "x" * 151},
                                    {"username": "bad name!"}, {"email": "not-an-email"}, {"first_name": 7}])
def test_register_refuses_extra_overlong_and_wrong_fields(client, change):
    response = register(client, **change) if "username" not in change else post(client, "register/", {
        "username": change["username"], "email": "n@example.test", "password": STRONG, "first_name": "N",
        "last_name": "N"})
    assert response.status_code == 422, response.content
    assert not User.objects.exists()


def test_malformed_json_is_400(client):
    response = client.post("/api/auth/login/", "{nope", content_type="application/json")
    assert response.status_code == 400 and code_of(response) == "malformed_json"


# --- login, tokens, single session ---------------------------------------------------------------
def test_login_with_email_and_profile_with_the_access_token(client, mailbox):
    verified_user(client, mailbox)
    response = login(client, username="nina@example.test")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    profile = client.get("/api/auth/profile/", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert profile.status_code == 200 and profile.json()["username"] == "nina"
    user = User.objects.get(username="nina")
    assert user.last_login is not None and user.last_login_ip == "127.0.0.1"
    session = UserSession.objects.get(pk=body["session_id"])
    assert body["refresh_token"].split(".", 1)[1] not in session.session_token


def test_wrong_password_and_unknown_user_look_the_same(client, mailbox):
    verified_user(client, mailbox)
    wrong = login(client, password="Wrong!Pass123")
    unknown = login(client, username="ghost")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_a_new_login_ends_the_previous_session_and_notifies(client, mailbox):
    verified_user(client, mailbox)
    first = login(client).json()
    mailbox.clear()
    second = login(client).json()
    assert client.get("/api/auth/profile/", HTTP_AUTHORIZATION=f"Bearer {first['access_token']}").status_code == 401
    assert client.get("/api/auth/profile/", HTTP_AUTHORIZATION=f"Bearer {second['access_token']}").status_code == 200
    notification = Notification.objects.get(user__username="nina", title="New login to your account")
    assert notification.priority == "HIGH"
    assert any("New login" in message["Subject"] for message in mailbox)


def test_refresh_rotates_and_a_replayed_refresh_token_ends_the_session(client, mailbox):
    verified_user(client, mailbox)
    tokens = login(client).json()
    rotated = post(client, "refresh/", {"refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200
    new = rotated.json()
    assert new["refresh_token"] != tokens["refresh_token"]
    assert client.get("/api/auth/profile/", HTTP_AUTHORIZATION=f"Bearer {new['access_token']}").status_code == 200

    replay = post(client, "refresh/", {"refresh_token": tokens["refresh_token"]})
    assert replay.status_code == 401 and code_of(replay) == "refresh_token_reused"
    assert client.get("/api/auth/profile/", HTTP_AUTHORIZATION=f"Bearer {new['access_token']}").status_code == 401
    assert code_of(post(client, "refresh/", {"refresh_token": new["refresh_token"]})) == "invalid_refresh_token"
    assert AuditLogEntry.objects.filter(action="refresh_token_reused").exists()


@pytest.mark.parametrize("token", ["", "nodot", "6553f1c2a4b5c6d7e8f90123.guess", "zz.zz"])
def test_bad_refresh_tokens(client, token):
    response = post(client, "refresh/", {"refresh_token": token})
    assert response.status_code in (401, 422)


def test_logout_ends_the_session(client, mailbox):
    verified_user(client, mailbox)
    tokens = login(client).json()
    assert post(client, "logout/", {}, token=tokens["access_token"]).status_code == 200
    assert client.get("/api/auth/profile/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").status_code == 401
    assert code_of(post(client, "refresh/", {"refresh_token": tokens["refresh_token"]})) == "invalid_refresh_token"


# --- lockout and rate limits ---------------------------------------------------------------------
def test_five_failures_lock_the_account_even_for_the_right_password(client, mailbox, settings, caplog):
    verified_user(client, mailbox)
    mailbox.clear()
    for _ in range(5):
        assert login(client, password="Wrong!Pass123").status_code == 401
    locked = login(client)
    assert locked.status_code == 403 and code_of(locked) == "account_locked"
    assert "locked_until" in locked.json()["error"]["details"]
    assert User.objects.get(username="nina").account_locked_until is not None
    assert any("locked" in message["Subject"] for message in mailbox)
    assert AuditLogEntry.objects.filter(action="account_locked").count() == 1
    assert AuditLogEntry.objects.filter(action="login_refused_locked").count() == 1


def test_lock_expires(client, mailbox, settings):
    settings.LOCKOUT_SECONDS = -1  # locks already over
    verified_user(client, mailbox)
    for _ in range(5):
        login(client, password="Wrong!Pass123")
    assert login(client).status_code == 200
    assert User.objects.get(username="nina").failed_login_attempts == 0


def test_per_account_rate_limit_answers_429_with_retry_after(client, mailbox, settings):
    settings.AUTH_RATE_LIMIT_PER_ACCOUNT = (3, 60)
    verified_user(client, mailbox)
    for _ in range(3):
        login(client, password="Wrong!Pass123")
    response = login(client)
    assert response.status_code == 429 and code_of(response) == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_per_ip_rate_limit(client, settings):
    settings.AUTH_RATE_LIMIT_PER_IP = (2, 60)
    for n in range(2):
        login(client, username=f"ghost{n}")
    assert login(client, username="ghost9").status_code == 429


# --- passwords ----------------------------------------------------------------------------------------
def test_forgot_password_answers_the_same_for_unknown_addresses(client, mailbox):
    verified_user(client, mailbox)
    mailbox.clear()
    known = post(client, "forgot-password/", {"email": "nina@example.test"})
    unknown = post(client, "forgot-password/", {"email": "nobody@example.test"})
    assert known.status_code == unknown.status_code == 202 and known.json() == unknown.json()
    assert len(mailbox) == 1 and mailbox[0]["To"] == "nina@example.test"


def test_reset_password_ends_every_session_and_is_single_use(client, mailbox):
    verified_user(client, mailbox)
    tokens = login(client).json()
    post(client, "forgot-password/", {"email": "nina@example.test"})
    token = token_from(mailbox[-1], "/app/reset-password/")
    assert token not in User.objects.get(username="nina").reset_password_token
    new_password = "N3w!Passphrase#1"
    assert post(client, "reset-password/", {"token": token, "new_password": new_password}).status_code == 200
    assert client.get("/api/auth/profile/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").status_code == 401
    again = post(client, "reset-password/", {"token": token, "new_password": "An0ther!Pass#2"})
    assert again.status_code == 400 and code_of(again) == "invalid_token"
    assert login(client, password=new_password).status_code == 200


def test_expired_reset_token_and_weak_new_password(client, mailbox, settings):
    verified_user(client, mailbox)
    post(client, "forgot-password/", {"email": "nina@example.test"})
    token = token_from(mailbox[-1], "/app/reset-password/")
    weak = post(client, "reset-password/", {"token": token, "new_password": "weak"})
    assert weak.status_code == 422 and code_of(weak) == "validation_error"
    assert {tuple(field["location"]) for field in weak.json()["error"]["details"]["fields"]} == {
        ("body", "new_password")}
    settings.PASSWORD_RESET_TTL_SECONDS = -1
    post(client, "forgot-password/", {"email": "nina@example.test"})
    expired = post(client, "reset-password/", {"token": token_from(mailbox[-1], "/app/reset-password/"),
                                               "new_password": "N3w!Passphrase#1"})
    assert expired.status_code == 400 and code_of(expired) == "token_expired"


def test_change_password_needs_the_old_one_and_keeps_only_this_session(client, mailbox):
    verified_user(client, mailbox)
    tokens = login(client).json()
    wrong = post(client, "change-password/", {"old_password": "nope", "new_password": "N3w!Passphrase#1"},
                 token=tokens["access_token"])
    assert wrong.status_code == 400 and code_of(wrong) == "wrong_password"
    other = UserSession.objects.create(user=User.objects.get(username="nina"), session_token="x" * 64,
                                       expires_at="2099-01-01T00:00:00Z")
    ok = post(client, "change-password/", {"old_password": STRONG, "new_password": "N3w!Passphrase#1"},
              token=tokens["access_token"])
    assert ok.status_code == 200
    other.refresh_from_db()
    assert not other.is_active and other.revoke_reason == "password_changed"
    assert client.get("/api/auth/profile/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").status_code == 200
    assert Notification.objects.filter(title="Your password was changed").exists()


# --- profile and approval -------------------------------------------------------------------------
def test_profile_update_changes_only_profile_fields(client, mailbox):
    verified_user(client, mailbox)
    token = login(client).json()["access_token"]
    response = client.put("/api/auth/profile/", {"company": "Acme", "wallet_address": "0x" + "ab" * 20},
                          content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response.json()["company"] == "Acme"
    assert response.json()["wallet_address"] == "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"
    for forbidden in ({"role": "ADMIN"}, {"is_staff": True}, {"manager": None}, {"email_verified": True}):
        response = client.put("/api/auth/profile/", forbidden, content_type="application/json",
                              HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 422
    bad = client.put("/api/auth/profile/", {"wallet_address": "0x123"}, content_type="application/json",
                     HTTP_AUTHORIZATION=f"Bearer {token}")
    assert bad.status_code == 422 and code_of(bad) == "validation_error"
    assert bad.json()["error"]["details"]["fields"] == [
        {"location": ["body", "wallet_address"], "message": "not an Ethereum address", "type": "invalid"}]
    user = User.objects.get(username="nina")
    assert user.role == "ADMIN" and not user.is_superuser  # of her own organization, from registration


def test_session_approval_gates_private_key_operations(client, mailbox, settings):
    verified_user(client, mailbox)
    body = login(client).json()
    session = UserSession.objects.get(pk=body["session_id"])
    with pytest.raises(DomainError) as refused:
        require_approved_session(session)
    assert refused.value.code == "session_not_approved"
    wrong = post(client, "confirm-password/", {"password": "nope"}, token=body["access_token"])
    assert wrong.status_code == 401
    approved = post(client, "confirm-password/", {"password": STRONG}, token=body["access_token"])
    assert approved.status_code == 200 and approved.json()["is_approved"] is True
    session.refresh_from_db()
    require_approved_session(session)  # no exception
    settings.SESSION_APPROVAL_SECONDS = -1
    post(client, "confirm-password/", {"password": STRONG}, token=body["access_token"])
    session.refresh_from_db()
    with pytest.raises(DomainError):
        require_approved_session(session)


def test_confirm_password_needs_authentication(client):
    response = post(client, "confirm-password/", {"password": "x"})
    assert response.status_code == 401 and code_of(response) == "not_authenticated"


# --- browser path shares the rules ---------------------------------------------------------------
def test_browser_login_is_ended_by_a_newer_api_login(mailbox):
    browser = Client()
    api = Client()
    user = verified_user(api, mailbox)
    user.role = "MANAGER"
    user.is_staff = True
    user.save()
    response = browser.post("/app/login/", {"username": "nina", "password": STRONG})
    assert response.status_code == 302
    assert browser.get("/app/").status_code == 200
    assert login(api).status_code == 200
    assert browser.get("/app/").status_code == 302  # logged out: the session was ended


def test_browser_login_applies_lockout_and_verification(mailbox):
    browser = Client()
    register(browser)
    response = browser.post("/app/login/", {"username": "nina", "password": STRONG})
    assert response.status_code == 200 and b"Verify your email" in response.content


def test_profile_is_rate_limited_per_account(client, mailbox, settings):
    verified_user(client, mailbox)
    token = login(client).json()["access_token"]
    settings.AUTH_RATE_LIMIT_PER_ACCOUNT = (2, 60)
    statuses = [client.get("/api/auth/profile/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
