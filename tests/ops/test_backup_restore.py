"""`manage.py backup` / `manage.py restore` (issue 19, item 12): seed books, back up, wipe, restore:
the trial balance and every document come back byte for byte (Decimal128 included), with every
index; the same backup restores into another, empty database; a non-empty database is refused
without --force; a corrupted or tampered backup is refused with a clear error and nothing written;
a backup taken while something keeps writing is refused rather than torn."""

import datetime as dt
import json
import threading
from decimal import Decimal

import pytest
from bson.raw_bson import RawBSONDocument
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import Role
from core import backups
from tests.ops.raw_state import raw_state
from ledger import services
from ledger.models import JournalEntry
from ledger.selectors import trial_balance

pytestmark = pytest.mark.django_db(transaction=True)


def wipe(db) -> None:
    for name in db.list_collection_names():
        if not name.startswith("system."):
            db.drop_collection(name)


@pytest.fixture
def books(make_user, organization):
    manager = make_user(role=Role.MANAGER)
    amounts = [Decimal("1234.56789012"), Decimal("0.00000001"), Decimal("98765432.1"), Decimal("7.10")]
    entries = []
    for number, amount in enumerate(amounts, start=1):
        entries.append(services.journal_entry_create(
            created_by=manager, date=dt.date(2026, 3, number), description=f"seed {number}",
            line_items=[{"account_code": "1110", "debit_amount": amount},
                        {"account_code": "3100", "credit_amount": amount}], post=number != 4))
    services.journal_entry_reverse(entry=entries[0], actor=manager)
    report = trial_balance(organization_id=organization.pk)
    assert report["total_debit"] > 0 and report["is_balanced"]
    return organization, report


@pytest.fixture
def database():
    db = connection.get_database()
    before = raw_state(db)
    yield db
    if not any(db[name].find_one() for name in db.list_collection_names()):  # a failed step left it wiped
        for name, collection in before.items():
            db.command({"create": name, **collection["options"]})
            indexes = [{k: v for k, v in ix.items() if k not in ("v", "ns")} for ix in collection["indexes"]
                       if ix["name"] != "_id_"]
            if indexes:
                db.command({"createIndexes": name, "indexes": indexes})
            if collection["documents"]:
                db.get_collection(name, codec_options=backups.RAW).insert_many(
                    [RawBSONDocument(raw) for raw in collection["documents"]])


@pytest.mark.parametrize("name", ["backup-folder", "backup.tar.gz"])
def test_seed_backup_wipe_restore_gives_back_every_byte(books, database, tmp_path, name):
    organization, report = books
    before = raw_state(database)
    target = tmp_path / name
    call_command("backup", str(target))
    assert target.exists()

    wipe(database)
    assert database.list_collection_names() == []
    call_command("restore", str(target))

    assert raw_state(database) == before  # every collection, option, index and document byte for byte
    restored = trial_balance(organization_id=organization.pk)
    assert restored == report
    assert JournalEntry.objects.get(description="seed 2").total_debit == Decimal("0.00000001")


def test_the_backup_restores_into_another_empty_database(books, database, tmp_path):
    target = tmp_path / "elsewhere"
    summary = backups.backup_database(database, target)
    before = raw_state(database)
    other = database.client[f"{database.name}_restored"]
    other.client.drop_database(other.name)
    try:
        restored = backups.restore_database(other, target)
        assert raw_state(other) == before
        assert (restored.collections, restored.documents) == (summary.collections, summary.documents)
        assert summary.documents == sum(len(c["documents"]) for c in before.values())
    finally:
        other.client.drop_database(other.name)


def test_a_non_empty_database_is_refused_without_force(books, database, tmp_path):
    target = tmp_path / "b"
    call_command("backup", "--output", str(target))
    JournalEntry.objects.filter(description="seed 3").delete()
    changed = raw_state(database)
    with pytest.raises(CommandError, match="is not empty.*--force"):
        call_command("restore", str(target))
    assert raw_state(database) == changed  # nothing was touched
    call_command("restore", str(target), "--force")
    assert JournalEntry.objects.filter(description="seed 3").count() == 1


def _flip_a_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["flipped byte", "truncated file", "missing file", "tampered manifest",
                                    "manifest not json"])
def test_a_corrupted_backup_is_refused_and_nothing_is_written(books, database, tmp_path, damage):
    target = tmp_path / "b"
    call_command("backup", str(target))
    manifest = json.loads((target / "manifest.json").read_text())
    biggest = max(manifest["collections"], key=lambda name: manifest["collections"][name]["bytes"])
    bson_file = target / f"{biggest}.bson"
    expected = {
        "flipped byte": "corrupted: its SHA-256 does not match",
        "truncated file": "corrupted: .* bytes, the manifest says",
        "missing file": "is missing from the backup",
        "tampered manifest": "manifest.json is corrupted: its checksum does not match",
        "manifest not json": "manifest.json is corrupted \\(not JSON",
    }[damage]
    if damage == "flipped byte":
        _flip_a_byte(bson_file)
    elif damage == "truncated file":
        bson_file.write_bytes(bson_file.read_bytes()[:-7])
    elif damage == "missing file":
        bson_file.unlink()
    elif damage == "tampered manifest":
        manifest["collections"][biggest]["documents"] += 1
        (target / "manifest.json").write_text(json.dumps(manifest))
    else:
        (target / "manifest.json").write_text('{"format": ')
    wipe(database)
    with pytest.raises(CommandError, match=expected):
        call_command("restore", str(target))
    assert database.list_collection_names() == []  # refused before any write
    with pytest.raises(CommandError, match=expected):
        call_command("restore", str(target), "--check")


def test_a_damaged_archive_is_refused(books, database, tmp_path):
    target = tmp_path / "b.tar.gz"
    call_command("backup", str(target))
    target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    with pytest.raises(CommandError, match="not a readable backup archive"):
        call_command("restore", str(target), "--force")
    assert JournalEntry.objects.count() == 5  # untouched


def test_a_backup_taken_while_writes_go_on_is_refused_not_torn(books, database, tmp_path):
    stop, started = threading.Event(), threading.Event()
    noise = database.client[database.name]["ops_backup_noise"]

    def writer():
        n = 0
        while not stop.is_set():
            noise.insert_one({"n": n})
            n += 1
            started.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        started.wait(10)
        with pytest.raises(backups.BackupError, match="kept changing during 2 copies .*i .*ops_backup_noise"):
            backups.backup_database(database, tmp_path / "torn", attempts=2)
    finally:
        stop.set()
        thread.join()
    summary = backups.backup_database(database, tmp_path / "quiet")  # quiet again: it works
    assert summary.attempts == 1
    database.drop_collection("ops_backup_noise")
