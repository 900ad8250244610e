"""The access matrix over the admin (see test_access_matrix.py)."""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from tests.security.matrix import leaks

pytestmark = pytest.mark.django_db


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
            elif response.status_code == 200 and leaks(response.content, world):
                violations.append(f"LEAK {changelist} as {key}: {leaks(response.content, world)[:3]}")
            for obj in objects_of_a:
                change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
                response = client.get(change)
                calls += 1
                if response.status_code == 200 or response.status_code >= 500:
                    violations.append(f"{change} (an object of A) as {key}: {response.status_code}")
    assert violations == [], f"{len(violations)} violations in {calls} admin calls:\n" + "\n".join(violations)

