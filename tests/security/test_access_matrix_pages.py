"""The access matrix over the back-office pages (see test_access_matrix.py)."""

import pytest
from django.test import Client

from tests.security.access_table import PAGES
from tests.security.matrix import fill_body, run_matrix

pytestmark = pytest.mark.django_db


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
        return client.post(url, fill_body(rule.body, world) or {})

    checker = run_matrix(PAGES, world, send, "page")
    assert checker.violations == [], f"{len(checker.violations)} violations in {checker.calls} calls:\n" + \
        "\n".join(checker.violations)

