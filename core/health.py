"""Health checks of every component the app depends on. Each check has a short timeout and they run
in parallel, so the report arrives within ~3 s even when everything is down."""

from __future__ import annotations

import asyncio
import smtplib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import pymongo
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from huey.contrib.djhuey import HUEY

from core.localstack import eth_chain_id

CHECK_TIMEOUT_SECONDS = 2.0


@dataclass
class ComponentHealth:
    status: str  # "ok" | "down" | "error"
    latency_ms: float
    detail: str


def _timed(check) -> ComponentHealth:
    began = time.perf_counter()
    try:
        status, detail = check()
    except Exception as exc:  # a failing component is reported, never raised
        status, detail = "down", f"{type(exc).__name__}: {exc}"[:300]
    return ComponentHealth(status, round((time.perf_counter() - began) * 1000, 1), detail)


def check_database(uri: str | None = None) -> tuple[str, str]:
    uri = uri or settings.DATABASES["default"]["HOST"]
    timeout_ms = int(CHECK_TIMEOUT_SECONDS * 1000)
    client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms)
    try:
        client.admin.command("ping")
        return "ok", "ping answered"
    finally:
        client.close()


def check_chain(url: str | None = None, expected_chain_id: int | None = None) -> tuple[str, str]:
    url = url or settings.ETH_RPC_URL
    expected = expected_chain_id if expected_chain_id is not None else settings.ETH_CHAIN_ID
    chain_id = eth_chain_id(url, timeout=CHECK_TIMEOUT_SECONDS)
    if chain_id is None:
        return "down", "the node does not answer eth_chainId"
    if chain_id != expected:
        return "error", f"chain id {chain_id}, expected {expected}"
    return "ok", f"chain id {chain_id}"


def check_task_queue() -> tuple[str, str]:
    return "ok", f"{HUEY.pending_count()} task(s) pending ({type(HUEY).__name__})"


def check_channel_layer() -> tuple[str, str]:
    layer = get_channel_layer()
    if layer is None:
        return "down", "no channel layer configured"

    async def round_trip():
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "health.ping"})
        message = await asyncio.wait_for(layer.receive(channel), timeout=CHECK_TIMEOUT_SECONDS)
        return message.get("type") == "health.ping"

    ok = async_to_sync(round_trip)()
    return ("ok", f"round trip through {type(layer).__name__}") if ok else ("error", "wrong message back")


def check_email(host: str | None = None, port: int | None = None) -> tuple[str, str]:
    host = host or settings.EMAIL_HOST
    port = port or settings.EMAIL_PORT
    smtp_class = smtplib.SMTP_SSL if settings.EMAIL_USE_SSL else smtplib.SMTP
    with smtp_class(host, port, timeout=CHECK_TIMEOUT_SECONDS) as smtp:
        code, _ = smtp.noop()
    return ("ok", f"SMTP {host}:{port} answered NOOP") if code == 250 else ("error", f"NOOP answered {code}")


CHECKS = {
    "database": check_database,
    "chain": check_chain,
    "task_queue": check_task_queue,
    "channel_layer": check_channel_layer,
    "email": check_email,
}


def health_report() -> dict:
    """{"status": "ok"|"degraded"|"down", "components": {name: {status, latency_ms, detail}}}.
    "down" only when the database is down: nothing works without it."""
    with ThreadPoolExecutor(max_workers=len(CHECKS)) as pool:
        futures = {name: pool.submit(_timed, check) for name, check in CHECKS.items()}
        components = {name: asdict(future.result()) for name, future in futures.items()}
    if components["database"]["status"] != "ok":
        status = "down"
    elif all(c["status"] == "ok" for c in components.values()):
        status = "ok"
    else:
        status = "degraded"
    return {"status": status, "components": components}
