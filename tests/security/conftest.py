"""The world the access matrix runs in (tests/security/test_access_matrix*.py)."""

import pytest
from django.test import Client

from tests.security.world import build_world


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

