"""The harness's own parts: services started on demand survive a port taken since the worker chose it."""

import os
import smtplib
import socket

from django.conf import settings as django_settings
from django.test import override_settings

from core import localstack
from tests import harness


def test_a_service_whose_chosen_port_was_taken_starts_on_another():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        (controller, store), port = harness.start_on_a_free_port(localstack.start_smtp_catcher, taken)
        try:
            assert port != taken
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                client.sendmail("a@example.com", ["b@example.com"], "Subject: probe\n\nbody")
            assert [message["Subject"] for message in store.messages] == ["probe"]
        finally:
            controller.stop()


def test_a_service_that_never_starts_reports_the_last_failure():
    tried = []

    def refuse(port):
        tried.append(port)
        raise localstack.ServiceError(f"port {port} is already in use")

    try:
        harness.start_on_a_free_port(refuse, 1, attempts=3)
    except localstack.ServiceError as error:
        assert str(error) == f"port {tried[-1]} is already in use"
    else:
        raise AssertionError("a service that cannot start must raise")
    assert len(tried) == 3 and tried[0] == 1 and len(set(tried)) == 3


def test_a_moved_setting_outlives_the_override_a_test_had_open(monkeypatch):
    monkeypatch.delenv("HARNESS_PROBE", raising=False)
    try:
        with override_settings(HARNESS_PROBE=1):
            assert django_settings.HARNESS_PROBE == 1
            harness.move_setting("HARNESS_PROBE", 2)
        assert django_settings.HARNESS_PROBE == 2  # the override's teardown did not undo it
        assert os.environ["HARNESS_PROBE"] == "2"  # and the processes a test starts see it
    finally:
        base = django_settings._wrapped
        while hasattr(base, "default_settings"):  # beneath the test's own override
            base = base.default_settings
        delattr(base, "HARNESS_PROBE")
        django_settings.__dict__.pop("HARNESS_PROBE", None)
