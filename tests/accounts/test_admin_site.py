"""The admin as a whole: branding, a sidebar per role, large lists without counts, read-only task
runs, and the user admin keeping role, role group and staff flag together."""

import pytest
from django.contrib import admin
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import user_create
from core.models import TaskLogLine, TaskRun
from wallets.models import Transaction, Wallet

pytestmark = pytest.mark.django_db

STRONG = "Str0ng!Passphrase"
_main_organization = {}


@pytest.fixture(autouse=True)
def _in_the_main_organization(organization):
    _main_organization["org"] = organization
    yield
    _main_organization.clear()


def person(username, role=Role.USER, **extra):
    """A member of the test's main organization."""
    extra.setdefault("organization", _main_organization["org"])
    return user_create(username=username, email=f"{username}@example.test", password=STRONG,
                       first_name=username.title(), last_name="Tester", role=role, **extra)


@pytest.fixture
def root_client(client):
    client.force_login(person("root", Role.ADMIN, is_superuser=True))
    return client


def change_form_data(client, url, **overrides):
    """The change form's current values as POST data, with `overrides` applied."""
    form = client.get(url).context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if value is None or field.disabled:
            continue
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        else:
            data[name] = str(value)
    data.pop("date_joined", None)
    joined = timezone.localtime(timezone.now())
    data.update({"date_joined_0": joined.strftime("%Y-%m-%d"), "date_joined_1": joined.strftime("%H:%M:%S")})
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_is_branded(root_client):
    html = root_client.get("/admin/").content.decode()
    assert "Crypto Books" in html and "Crypto accounting back-office" in html


def test_sidebar_shows_a_manager_only_what_the_role_may_view(client):
    client.force_login(person("maya", Role.MANAGER))
    html = client.get("/admin/").content.decode()
    for visible in ("/admin/accounts/user/", "/admin/wallets/wallet/", "/admin/wallets/transaction/",
                    "/admin/wallets/cryptocurrency/", "/admin/core/taskrun/", "/admin/wallets/pricequote/",
                    "/admin/wallets/pricealert/", "/admin/accounts/auditlogentry/", "/admin/accounts/usersession/"):
        assert f'href="{visible}"' in html, visible
    for hidden in ("/admin/auth/group/",):  # the role groups are the platform's
        assert f'href="{hidden}"' not in html, hidden
    assert "People" in html and "Wallets &amp; chain" in html


def test_sidebar_shows_an_admin_the_groups_and_audit_log(root_client):
    html = root_client.get("/admin/").content.decode()
    assert 'href="/admin/auth/group/"' in html and 'href="/admin/accounts/auditlogentry/"' in html


@pytest.mark.parametrize("model", [User, Transaction, TaskRun, Wallet])
def test_large_lists_skip_the_full_count(model):
    assert admin.site._registry[model].show_full_result_count is False


def test_task_runs_are_read_only_and_show_their_log_lines(client, root_client, organization):
    run = TaskRun.objects.create(name="collection_stats", status="SUCCEEDED", progress=100, organization=organization,
                                 log_lines=[
        TaskLogLine(at=timezone.now(), level="INFO", message="counted 12 collections"),
        TaskLogLine(at=timezone.now(), level="WARNING", message="users has no index on phone_number"),
    ])
    url = f"/admin/core/taskrun/{run.pk}/change/"
    page = root_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "counted 12 collections" in html and "users has no index on phone_number" in html
    assert 'name="_save"' not in html
    assert root_client.post(url, {"name": "renamed"}).status_code == 403
    assert root_client.get("/admin/core/taskrun/add/").status_code == 403
    assert root_client.get(f"/admin/core/taskrun/{run.pk}/delete/").status_code == 403
    assert TaskRun.objects.get(pk=run.pk).name == "collection_stats"

    client.force_login(person("maya", Role.MANAGER))
    assert client.get("/admin/core/taskrun/").status_code == 200
    assert "counted 12 collections" in client.get(url).content.decode()


def test_adding_a_user_in_the_admin_puts_them_in_their_role_group(root_client):
    response = root_client.post("/admin/accounts/user/add/", {
        "username": "nora", "email": "nora@example.test", "first_name": "Nora", "last_name": "North",
        "role": Role.MANAGER, "password1": STRONG, "password2": STRONG, "usable_password": "true",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    nora = User.objects.get(username="nora")
    assert nora.is_staff and not nora.is_superuser and nora.check_password(STRONG)
    assert list(nora.groups.values_list("name", flat=True)) == ["MANAGER"]


def test_the_admin_refuses_a_weak_password(root_client):
    response = root_client.post("/admin/accounts/user/add/", {
        "username": "weak", "email": "weak@example.test", "first_name": "Weak", "last_name": "One",
        "role": Role.USER, "password1": "password123", "password2": "password123", "usable_password": "true",
    })
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not User.objects.filter(username="weak").exists()


def test_lockout_fields_and_staff_flag_are_read_only(root_client):
    target = person("tom")
    form = root_client.get(f"/admin/accounts/user/{target.pk}/change/").context["adminform"].form
    for name in ("failed_login_attempts", "account_locked_until", "last_login_ip", "is_staff"):
        assert name not in form.fields
    for name in ("role", "manager", "is_verified_by_manager"):
        assert name in form.fields


def test_editing_groups_in_the_admin_cannot_drop_the_role_group(root_client):
    target = person("tom", Role.MANAGER)
    url = f"/admin/accounts/user/{target.pk}/change/"
    response = root_client.post(url, change_form_data(root_client, url, groups=[]))
    assert response.status_code == 302, response.context["adminform"].form.errors
    target.refresh_from_db()
    assert list(target.groups.values_list("name", flat=True)) == ["MANAGER"] and target.is_staff


def test_demoting_in_the_admin_removes_staff_and_group(root_client):
    target = person("tom", Role.MANAGER)
    url = f"/admin/accounts/user/{target.pk}/change/"
    response = root_client.post(url, change_form_data(root_client, url, role=Role.USER))
    assert response.status_code == 302, response.context["adminform"].form.errors
    target.refresh_from_db()
    assert target.role == Role.USER and not target.is_staff
    assert list(target.groups.values_list("name", flat=True)) == ["USER"]
