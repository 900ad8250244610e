"""The demo logins say who is where: `core.demo.demo_logins()` gives each login its organization and
`load_demo` / `runstack` print them grouped by organization, one `username / password / role` line
each (an outside check reads those lines)."""

import sys
import types
from io import StringIO

import pytest
from django.core.management import call_command

from core import demo


@pytest.fixture
def fake_demo(monkeypatch):
    module = types.ModuleType("tests_fake_demo_people")
    module.DEMO_USERS = (
        {"username": "boss", "password": "Pw!1", "role": "ADMIN", "organization": "Demo Books Ltd"},
        {"username": "client", "password": "Pw!2", "role": "ADMIN", "organization": "Outside Client"},
        {"username": "clerk", "password": "Pw!3", "role": "USER", "organization": "Demo Books Ltd"},
    )
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(demo, "DEMO_LOADERS", (module.__name__,))
    return module


def test_each_login_has_its_organization(fake_demo):
    assert demo.demo_logins()[1] == {"username": "client", "password": "Pw!2", "role": "ADMIN",
                                     "organization": "Outside Client"}


def test_logins_are_grouped_by_organization_in_the_demo_order(fake_demo):
    assert demo.demo_login_lines("  ") == [
        "  Demo Books Ltd:",
        "    boss / Pw!1 / ADMIN",
        "    clerk / Pw!3 / USER",
        "  Outside Client:",
        "    client / Pw!2 / ADMIN",
    ]


@pytest.mark.django_db
def test_without_a_declared_organization_the_loaded_users_own_is_named(fake_demo, make_user, organization):
    make_user(username="boss")
    fake_demo.DEMO_USERS = ({"username": "boss", "password": "Pw!1", "role": "ADMIN"},
                            {"username": "ghost", "password": "Pw!4", "role": "USER"})
    assert [login["organization"] for login in demo.demo_logins()] == ["Acme", demo.NO_ORGANIZATION]


def test_load_demo_prints_who_is_where(fake_demo, monkeypatch):
    from core.management.commands import load_demo

    monkeypatch.setattr(load_demo, "demo_load", demo.DemoReport)
    out = StringIO()
    call_command("load_demo", stdout=out)
    text = out.getvalue()
    assert "who is where" in text
    assert text.index("Demo Books Ltd:") < text.index("boss / Pw!1 / ADMIN") < text.index("Outside Client:")
    assert "client / Pw!2 / ADMIN" in text


def test_runstack_prints_who_is_where(fake_demo):
    from core.management.commands.runstack import Command

    out = StringIO()
    Command(stdout=out)._print_ready(1.0)
    text = out.getvalue()
    assert "Outside Client:" in text and "      client / Pw!2 / ADMIN" in text and "Press Ctrl-C" in text
