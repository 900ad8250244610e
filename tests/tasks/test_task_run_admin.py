"""TaskRunAdmin: staff see their organization's runs only (not another's, not the installation-wide
ones); a platform superuser sees every run, with its organization."""

import pytest

from core.models import TaskRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs(make_organization, organization):
    other = make_organization("Other Co")
    return {
        "ours": TaskRun.objects.create(name="ours_run", organization=organization),
        "theirs": TaskRun.objects.create(name="their_run", organization=other),
        "platform": TaskRun.objects.create(name="platform_run"),
        "other": other,
    }


def test_staff_see_only_their_organizations_runs(client, make_user, runs):
    client.force_login(make_user(role="MANAGER"))
    html = client.get("/admin/core/taskrun/").content.decode()
    assert "ours_run" in html and "their_run" not in html and "platform_run" not in html
    assert client.get(f"/admin/core/taskrun/{runs['ours'].pk}/change/").status_code == 200
    for key in ("theirs", "platform"):
        response = client.get(f"/admin/core/taskrun/{runs[key].pk}/change/", follow=True)
        assert runs[key].name not in response.content.decode()  # "not found", nothing shown


def test_staff_of_the_other_organization_see_theirs_only(client, make_user, runs):
    client.force_login(make_user(role="ADMIN", organization=runs["other"]))
    html = client.get("/admin/core/taskrun/").content.decode()
    assert "their_run" in html and "ours_run" not in html and "platform_run" not in html
    response = client.get(f"/admin/core/taskrun/{runs['ours'].pk}/change/", follow=True)
    assert "ours_run" not in response.content.decode()


def test_a_superuser_sees_every_run_and_its_organization(client, make_user, runs):
    client.force_login(make_user(role="ADMIN", is_superuser=True))
    html = client.get("/admin/core/taskrun/").content.decode()
    assert all(name in html for name in ("ours_run", "their_run", "platform_run"))
    assert "Other Co" in html
    assert client.get(f"/admin/core/taskrun/{runs['theirs'].pk}/change/").status_code == 200


def test_a_plain_user_cannot_open_task_runs(client, make_user, runs):
    client.force_login(make_user(role="USER", is_accountant=True))
    response = client.get("/admin/core/taskrun/")
    assert response.status_code in (302, 403)
    assert "ours_run" not in response.content.decode()
