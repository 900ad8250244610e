"""pytest plugin loaded early (`-p tests.harness`), before Django reads its settings.

It points the settings at real local services on free ports: the embedded MongoDB-wire server in
memory (unless MONGODB_URI names a real one), an anvil node (unless ETH_RPC_URL is set) and an SMTP
server on loopback, and keeps every file the app writes in a temporary data folder.
"""

import os
import shutil
import tempfile

from core import localstack

_DATA_DIR = tempfile.mkdtemp(prefix="cryptobooks-test-")
_started: list = []

os.environ["DATA_DIR"] = _DATA_DIR
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("HUEY_IMMEDIATE", "true")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.pop("REDIS_URL", None) if os.environ.get("TEST_USE_REDIS") != "1" else None
for _name in ("EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD", "EMAIL_USE_TLS"):
    os.environ.pop(_name, None)  # tests always talk to the loopback SMTP server of the `smtp` fixture
os.environ["EMBEDDED_SMTP_PORT"] = str(localstack.free_port())

USE_EMBEDDED_MONGODB = not os.environ.get("MONGODB_URI")
if USE_EMBEDDED_MONGODB:
    os.environ["EMBEDDED_MONGODB_PORT"] = str(localstack.free_port())
USE_ANVIL = not os.environ.get("ETH_RPC_URL")
if USE_ANVIL:
    os.environ["EMBEDDED_ETH_PORT"] = str(localstack.free_port())
    os.environ["ETH_CHAIN_ID"] = str(localstack.ANVIL_DEV_CHAIN_ID)


def pytest_configure(config):
    if USE_EMBEDDED_MONGODB and not hasattr(config, "workerinput"):
        port = int(os.environ["EMBEDDED_MONGODB_PORT"])
        _started.append(
            localstack.start_embedded_mongodb(
                port, ":memory:", log_path=localstack.Path(_DATA_DIR) / "log" / "secantus.log"
            )
        )


def pytest_unconfigure(config):
    while _started:
        _started.pop().stop()
    shutil.rmtree(_DATA_DIR, ignore_errors=True)


def pytest_report_header(config):
    mongo = "embedded SecantusDB (in memory)" if USE_EMBEDDED_MONGODB else "MONGODB_URI"
    chain = "anvil (started on demand)" if USE_ANVIL else os.environ.get("ETH_RPC_URL")
    return [f"database: {mongo}", f"chain: {chain}", f"data dir: {_DATA_DIR}"]


# --- Fast per-test cleanup ---------------------------------------------------------------------------
# On this backend every Django test case ends with a `flush`, which also re-creates content types,
# permissions and role groups through post_migrate (~0.8 s per test). Instead, empty every collection
# and delete only the reference documents (content types, permissions, groups) a test added, keeping
# the ones migrate created. Same end state, a fraction of the time.
REFERENCE_COLLECTIONS = ("django_content_type", "auth_permission", "auth_group", "auth_group_permissions")
_reference_ids: dict[str, set] = {}


def _database():
    from django.db import connection

    return connection.database


def snapshot_reference_documents() -> None:
    database = _database()
    for name in REFERENCE_COLLECTIONS:
        _reference_ids[name] = {doc["_id"] for doc in database[name].find({}, {"_id": 1})}


def clean_database() -> None:
    database = _database()
    for name in database.list_collection_names():
        if name == "django_migrations" or name.startswith("system."):
            continue
        collection = database[name]
        if name in _reference_ids:
            collection.delete_many({"_id": {"$nin": list(_reference_ids[name])}})
        elif collection.find_one({}, {"_id": 1}) is not None:
            collection.delete_many({})


def _fast_fixture_teardown(self):
    if not _reference_ids:
        snapshot_reference_documents()
    clean_database()


def pytest_sessionstart(session):
    from django.test import testcases

    testcases.TransactionTestCase._fixture_teardown = _fast_fixture_teardown
