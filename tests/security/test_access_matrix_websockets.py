"""The access matrix over the WebSocket routes (see test_access_matrix.py): who may connect to each,
and which connections receive an event sent to each group."""

import json

import pytest
from django.test import Client

from tests.security.access_table import A_ROLES, WEBSOCKETS
from tests.security.matrix import CALLERS
from tests.security.world import SECRET

# --- WebSockets ----------------------------------------------------------------------------------------

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


@pytest.mark.django_db(transaction=True)
async def test_websocket_matrix(world):
    from channels.db import database_sync_to_async
    from channels.layers import get_channel_layer
    from channels.testing import WebsocketCommunicator
    from django.conf import settings

    from config.asgi import application
    from core.realtime import (EVENT_MESSAGE_TYPE, Audience, StaffFeed, organization_group, relay_stop,
                               staff_feed_group, user_group)

    def cookie_for(user):
        client = Client()
        client.force_login(user)
        return client.cookies[settings.SESSION_COOKIE_NAME].value

    violations = []
    open_sockets = []
    try:
        for route, allowed in WEBSOCKETS.items():
            for key in CALLERS:
                actor = world.actor(key)
                headers = [ORIGIN]
                if actor.user is not None:
                    cookie = await database_sync_to_async(cookie_for)(actor.user)
                    headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
                communicator = WebsocketCommunicator(application, route, headers=headers)
                connected, _ = await communicator.connect(timeout=60)
                first = await communicator.receive_output(timeout=60) if connected else {"type": "websocket.close"}
                joined = first.get("type") == "websocket.send" and json.loads(first["text"]).get("type") == "connected"
                may = actor.org is not None and actor.role in allowed
                if joined != may:
                    violations.append(f"{route} as {key}: connected={joined}, want {may}")
                if joined:
                    open_sockets.append((route, key, communicator))
                else:
                    await communicator.disconnect()
        a_org = world.actor("A:manager").user.organization_id
        a_user = world.actor("A:user").user
        groups = {
            user_group(a_user.pk): {("/ws/live/", "A:user"), ("/ws/notifications/", "A:user")},
            organization_group(a_org, Audience.MEMBERS): {("/ws/live/", f"A:{r}") for r in A_ROLES},
            organization_group(a_org, Audience.BOOKS): {("/ws/live/", f"A:{r}") for r in ("accountant", "manager", "admin")},
            organization_group(a_org, Audience.STAFF): {("/ws/live/", f"A:{r}") for r in ("manager", "admin")},
            **{staff_feed_group(a_org, feed): {(f"/ws/admin/{feed}/", f"A:{r}") for r in ("manager", "admin")}
               for feed in (StaffFeed.TASK_LOGS, StaffFeed.DASHBOARD_STATS, StaffFeed.USER_MANAGEMENT,
                            StaffFeed.MANAGER_VERIFICATION)},
        }
        layer = get_channel_layer()
        for group, audience in groups.items():
            await layer.group_send(group, {"type": EVENT_MESSAGE_TYPE, "event_type": "matrix.probe",
                                           "payload": {"secret": SECRET, "group": group}})
            for route, key, communicator in open_sockets:
                got = []
                while not await communicator.receive_nothing(timeout=0.05):
                    got.append(await communicator.receive_json_from(timeout=1))
                probes = [m for m in got if m.get("type") == "matrix.probe"]
                if (route, key) in audience and not probes:
                    violations.append(f"{group}: {key} on {route} did not receive it")
                if (route, key) not in audience and probes:
                    violations.append(f"LEAK {group}: {key} on {route} received it")
    finally:
        for *_, communicator in open_sockets:
            await communicator.disconnect()
        await relay_stop()
    assert violations == [], "\n".join(violations)

