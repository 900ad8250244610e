"""pytest plugin loaded early (`-p tests.harness`), before Django reads its settings.

It points the settings at real local services on free ports: the embedded MongoDB-wire server in
memory (unless MONGODB_URI names a real one), an anvil node (unless ETH_RPC_URL is set) and an SMTP
server on loopback, and keeps every file the app writes in a temporary data folder.
"""

import multiprocessing.process
import os
import shutil
import subprocess
import tempfile

from pymongo import monitoring

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


def _runs_tests(config) -> bool:
    """Each pytest-xdist worker runs its own stack (database, chain, mail; ports and data folder are
    chosen when this module loads, once per process); the controller of `-n N` runs no test."""
    if hasattr(config, "workerinput"):
        return True
    return not (config.pluginmanager.hasplugin("xdist") and config.getoption("numprocesses", None))


def start_on_a_free_port(start, preferred: int | None = None, attempts: int = 5):
    """(start(port), port) for a service started on demand. The port this module chose when the
    worker started may have been taken since (it is an ephemeral port, and a busy machine opens
    outbound connections on those), so another free port is tried at once when it fails."""
    port = preferred or localstack.free_port()
    for attempt in range(attempts):
        try:
            return start(port), port
        except (OSError, RuntimeError):  # localstack.ServiceError is a RuntimeError, as is aiosmtpd's
            if attempt == attempts - 1:
                raise
            port = localstack.free_port()


def move_setting(name: str, value) -> None:
    """Change a setting for the rest of this worker's run: in Django's own settings object beneath
    any override a test has open (so its teardown does not undo it), and in the environment handed
    to the processes the tests start."""
    from django.conf import settings
    from django.test.utils import UserSettingsHolder

    base = settings._wrapped
    while isinstance(base, UserSettingsHolder):
        base = base.default_settings
    setattr(base, name, value)
    settings.__dict__.pop(name, None)  # LazySettings keeps each setting it has read
    os.environ[name] = str(value)


def pytest_configure(config):
    if USE_EMBEDDED_MONGODB and _runs_tests(config):
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
# permissions and role groups through post_migrate (~0.8 s per test). Instead, empty the collections
# this test wrote to (a pymongo command listener notes every insert/update/findAndModify target) and
# delete only the reference documents (content types, permissions, groups) a test added, keeping the
# ones migrate created. A test that started another process (a task consumer, a crashing sender, a
# management command in a subprocess) may have written where the listener cannot see, so its
# teardown checks every collection instead. Same end state as a flush, a fraction of the time.
REFERENCE_COLLECTIONS = ("django_content_type", "auth_permission", "auth_group", "auth_group_permissions")
_reference_ids: dict[str, set] = {}


class _WrittenCollections(monitoring.CommandListener):
    """Names of the collections written to since the last cleanup, by any client of this process."""

    def __init__(self):
        self.names: set[str] = set()
        self.unknown = True  # nothing is known before the first cleanup: check everything once

    def started(self, event):
        name, command = event.command_name, event.command
        if name in ("insert", "update", "findAndModify", "findandmodify"):
            self.names.add(command[name])
        elif name == "bulkWrite":
            self.names.update(ns["ns"].split(".", 1)[1] for ns in command.get("nsInfo", ()))
        elif name == "aggregate" and any("$out" in stage or "$merge" in stage
                                         for stage in command.get("pipeline", ())):
            self.unknown = True

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


_written = _WrittenCollections()
monitoring.register(_written)


def _mark_foreign_writer(original):
    def start(self, *args, **kwargs):
        _written.unknown = True
        return original(self, *args, **kwargs)

    return start


subprocess.Popen.__init__ = _mark_foreign_writer(subprocess.Popen.__init__)
multiprocessing.process.BaseProcess.start = _mark_foreign_writer(multiprocessing.process.BaseProcess.start)


def _database():
    from django.db import connection

    return connection.database


def snapshot_reference_documents() -> None:
    database = _database()
    for name in REFERENCE_COLLECTIONS:
        _reference_ids[name] = {doc["_id"] for doc in database[name].find({}, {"_id": 1})}


def clean_database() -> None:
    database = _database()
    if _written.unknown:
        names = [name for name in database.list_collection_names()
                 if database[name].find_one({}, {"_id": 1}) is not None]
    else:
        names = sorted(_written.names)
    for name in names:
        if name == "django_migrations" or name.startswith("system."):
            continue
        collection = database[name]
        if name in _reference_ids:
            collection.delete_many({"_id": {"$nin": list(_reference_ids[name])}})
        else:
            collection.delete_many({})
    _written.names.clear()
    _written.unknown = False


def _fast_fixture_teardown(self):
    if not _reference_ids:
        snapshot_reference_documents()
    clean_database()


def pytest_sessionstart(session):
    from django.test import testcases

    testcases.TransactionTestCase._fixture_teardown = _fast_fixture_teardown


# --- Longest files first --------------------------------------------------------------------------------
# pytest-xdist (`--dist loadfile`) hands whole files to the workers in collection order; a long file
# collected last leaves one worker busy while the others idle. These files (measured by a
# `--junitxml` run of 2026-12-02, longest first; each over about 20 s) are collected first, so the
# short ones fill in around them. A file missing from the list only runs in its usual place.
LONGEST_FILES = (
    "tests/payroll/test_payroll_chaos.py",
    "tests/security/test_access_matrix.py",
    "tests/integration/test_runstack.py",
    "tests/security/test_access_matrix_pages.py",
    "tests/cluster/test_consumers_racing.py",
    "tests/ops/test_backup_restore.py",
    "tests/cluster/test_several_processes.py",
    "tests/security/test_access_matrix_admin.py",
    "tests/realtime/test_people_events.py",
    "tests/wallets/test_send_crash.py",
    "tests/invoicing/test_settle_crash.py",
    "tests/fuzz/test_openapi_fuzz.py",
    "tests/payroll/test_crypto_payouts.py",
    "tests/payroll/test_recurring_payouts.py",
    "tests/payroll/test_employee_gas.py",
    "tests/wallets/test_send_chaos_loop.py",
    "tests/security/test_access_matrix_websockets.py",
    "tests/wallets/test_monitoring.py",
    "tests/db/test_decimals.py",
    "tests/fuzz/test_openapi_fuzz_member.py",
    "tests/realtime/test_admin_feeds.py",
    "tests/security/test_hostile_input.py",
    "tests/ai_audit/audits/test_audit_api.py",
    "tests/ai_audit/contracts/test_contracts_api.py",
    "tests/ai_audit/audits/test_report_and_model.py",
    "tests/reporting/test_tax_reports_api.py",
    "tests/reporting/test_portfolio_page.py",
)


def pytest_collection_modifyitems(session, config, items):
    rank = {path: index for index, path in enumerate(LONGEST_FILES)}
    position = {id(item): index for index, item in enumerate(items)}

    def key(item):
        path = item.nodeid.split("::", 1)[0]
        return rank.get(path, len(rank)), position[id(item)]

    items.sort(key=key)
