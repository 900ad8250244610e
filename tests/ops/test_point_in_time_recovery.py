"""Point-in-time recovery (issue 19, item 12): a real SecantusDB with its oplog archive on (as runstack
starts it), seeded and backed up, then written in three timed steps (inserts, updates and deletes; a
multi-document transaction; more deletes and a new collection). Restoring the backup into an empty
server up to a moment between two steps gives exactly the database of that moment (every document
byte for byte, every index); up to the end, the live database. A transaction is replayed whole or not
at all; a replay run twice changes nothing. Refused, with nothing written: a moment before the
backup, an archive with a segment missing (the message names the missing entries), an archive of
another server, a moment past what the archive knows, no archive at all."""

import datetime as dt
import json
import shutil
import struct
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import bson
import pytest
from bson import Decimal128, Int64
from bson.timestamp import Timestamp
from django.core.management import CommandError, call_command
from django.db import connection
from pymongo import MongoClient

from core import backups, localstack, oplog_replay
from tests.ops.raw_state import raw_state
from core.oplog_replay import Moment, RecoveryError

ARCHIVE_CAP = 20  # the server keeps 20 live oplog entries and archives the rest when it prunes


def now() -> dt.datetime:
    """A moment strictly between the writes before and after it (the oplog's wall clock is in ms)."""
    time.sleep(0.03)
    moment = dt.datetime.now(dt.timezone.utc)
    time.sleep(0.03)
    return moment


def prune(client) -> None:
    """The server prunes (and so archives) every 1,000 writes; the test asks for it at once."""
    client.admin.command("secantusAdmin.pruneOplog")


@dataclass
class Scenario:
    client: MongoClient
    uri: str
    archive: Path
    backup: Path
    backed_up_at: dt.datetime
    moments: dict
    states: dict
    transaction_ts: Timestamp


def _seed(db) -> None:
    db.accounts.create_index("code", unique=True)
    db.entries.create_index([("account", 1), ("date", -1)], name="account_date")
    db.accounts.insert_many([
        {"code": f"{1000 + n}", "name": f"account {n}", "balance": Decimal128(Decimal(f"{n}.000000001")),
         "opened": dt.datetime(2026, 1, 1 + n % 28, 9, 30), "big": Int64(2 ** 40 + n), "tags": ["a", "b"],
         "meta": {"level": n % 3, "notes": None}}
        for n in range(30)])
    db.entries.insert_many([{"account": f"{1000 + n % 30}", "amount": Decimal128(f"-{n}.5"), "n": n,
                             "date": dt.datetime(2026, 2, 1 + n % 28)} for n in range(15)])


def _step_1(db) -> None:  # inserts, updates of every kind, a replacement, deletes
    db.entries.insert_many([{"account": "1001", "amount": Decimal128("7.25"), "n": 100 + n,
                             "date": dt.datetime(2026, 3, 1)} for n in range(20)])
    db.accounts.update_one({"code": "1001"}, {"$set": {"name": "renamed", "meta.level": 9, "new": True},
                                              "$inc": {"big": 1}, "$push": {"tags": "c"}})
    db.accounts.update_one({"code": "1002"}, {"$unset": {"meta.notes": ""}, "$pop": {"tags": 1}})
    db.accounts.replace_one({"code": "1003"}, {"code": "1003", "name": "replaced", "balance": Decimal128("0")})
    db.entries.delete_many({"n": {"$lt": 3}})


def _step_2(client, db) -> Timestamp:  # a multi-document transaction among other writes, a new index
    db.audit.insert_many([{"n": n, "what": "before the transaction"} for n in range(20)])
    with client.start_session() as session:
        with session.start_transaction():
            db.accounts.insert_one({"code": "2000", "name": "in a transaction"}, session=session)
            db.entries.insert_one({"account": "2000", "amount": Decimal128("1"), "n": 200}, session=session)
            db.accounts.update_one({"code": "1004"}, {"$set": {"name": "moved in a transaction"}}, session=session)
            db.entries.delete_one({"n": 5}, session=session)
    transaction = client.local.oplog.rs.find_one({"ns": "books.accounts", "o.code": "2000"})
    assert transaction.get("txnNumber") is not None  # a real transaction's statement
    db.audit.create_index("what")
    return transaction["ts"]


def _step_3(db) -> None:  # more deletes than the live oplog keeps, a dropped and a new collection
    db.entries.delete_many({"n": {"$gte": 100}})
    # Two accounts swap their unique codes: replayed in another order, the unique index would refuse it.
    db.accounts.update_one({"code": "1010"}, {"$set": {"code": "swap"}})
    db.accounts.update_one({"code": "1011"}, {"$set": {"code": "1010"}})
    db.accounts.update_one({"code": "swap"}, {"$set": {"code": "1011"}})
    db.accounts.update_many({"meta.level": 0}, {"$set": {"meta.closed": True}})
    db.drop_collection("audit")
    db.ledgers.insert_one({"name": "created after the transaction"})


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    root = tmp_path_factory.mktemp("pitr")
    port = localstack.free_port()
    server = localstack.start_embedded_mongodb(port, root / "data", log_path=root / "secantus.log",
                                               oplog_archive_dir=root / "archive", oplog_max_entries=ARCHIVE_CAP)
    uri = localstack.embedded_mongodb_uri(port)
    client = MongoClient(uri)
    try:
        db = client.books
        _seed(db)
        prune(client)
        backup = root / "backup.tar.gz"
        backups.backup_database(db, backup)
        backed_up_at = now()
        moments, states = {}, {}
        _step_1(db)
        prune(client)
        moments[1], states[1] = now(), raw_state(db)
        transaction_ts = _step_2(client, db)
        prune(client)
        moments[2], states[2] = now(), raw_state(db)
        _step_3(db)
        prune(client)
        moments[3], states[3] = now(), raw_state(db)
        yield Scenario(client, uri, root / "archive", backup, backed_up_at, moments, states, transaction_ts)
    finally:
        client.close()
        server.stop()


@pytest.fixture(scope="module")
def empty_server():
    port = localstack.free_port()
    server = localstack.start_embedded_mongodb(port, ":memory:")
    client = MongoClient(localstack.embedded_mongodb_uri(port))
    yield client
    client.close()
    server.stop()


@pytest.fixture
def target(empty_server, request):
    name = f"restored_{request.node.name}"[:60].replace("[", "_").replace("]", "_").replace("-", "_")
    empty_server.drop_database(name)
    yield empty_server[name]
    empty_server.drop_database(name)


def test_the_server_archives_its_oplog_in_segments(scenario):
    segments = sorted(p.name for p in scenario.archive.iterdir() if p.name.endswith(".seg"))
    assert len(segments) >= 4  # one per prune that had something to archive
    runs, gaps = oplog_replay.read_archive(scenario.archive)
    assert len(runs) == 1 and gaps == []
    assert runs[0].entries[0].seq == 1  # from the server's first entry on, nothing missing
    ops = {entry.op for entry in runs[0].entries}
    assert {"i", "u", "d", "c"} <= ops


@pytest.mark.parametrize("step", [1, 2])
def test_a_moment_between_two_steps_gives_exactly_that_database(scenario, target, step):
    # Archive + the live oplog of the server that wrote it.
    summary = oplog_replay.recover_database(target, scenario.backup, Moment(wall=scenario.moments[step]),
                                            archive=scenario.archive, live_client=scenario.client)
    assert raw_state(target) == scenario.states[step]
    assert summary.applied > 0 and summary.missing_documents == 0
    assert summary.transactions == (1 if step == 2 else 0)


def test_the_archive_alone_reaches_a_moment_it_covers(scenario, target):
    # No live source (the old server is gone): step 3 wrote more than the live oplog keeps, so
    # everything up to step 2 is in the archive files.
    summary = oplog_replay.recover_database(target, scenario.backup, Moment(wall=scenario.moments[2]),
                                            archive=scenario.archive, live_client=None)
    assert raw_state(target) == scenario.states[2]
    assert summary.transactions == 1


def test_to_the_end_equals_the_live_database(scenario, target):
    summary = oplog_replay.recover_database(target, scenario.backup, Moment(), archive=scenario.archive,
                                            live_client=scenario.client)
    assert raw_state(target) == raw_state(scenario.client.books) == scenario.states[3]
    assert "the newest write" in summary.reached


def test_a_transaction_is_replayed_whole_or_not_at_all(scenario, target):
    ts = scenario.transaction_ts
    oplog_replay.recover_database(target, scenario.backup, Moment(ts=ts), archive=scenario.archive,
                                  live_client=scenario.client)
    assert target.accounts.find_one({"code": "2000"}) is not None
    assert target.entries.find_one({"n": 200}) is not None
    assert target.accounts.find_one({"code": "1004"})["name"] == "moved in a transaction"
    assert target.entries.find_one({"n": 5}) is None

    oplog_replay.recover_database(target, scenario.backup, Moment(ts=Timestamp(ts.time, ts.inc - 1)),
                                  archive=scenario.archive, live_client=scenario.client, force=True)
    assert target.accounts.find_one({"code": "2000"}) is None
    assert target.entries.find_one({"n": 200}) is None
    assert target.accounts.find_one({"code": "1004"})["name"] == "account 4"
    assert target.entries.find_one({"n": 5}) is not None
    assert target.audit.count_documents({}) == 20  # the writes just before it are there


def test_replaying_twice_changes_nothing(scenario, target):
    moment = Moment(wall=scenario.moments[2])
    oplog_replay.recover_database(target, scenario.backup, moment, archive=scenario.archive,
                                  live_client=scenario.client)
    plan = oplog_replay.plan_recovery(scenario.backup, moment, archive=scenario.archive, live_client=scenario.client)
    try:
        oplog_replay.apply_entries(target, plan.entries)
    finally:
        shutil.rmtree(plan.scratch, ignore_errors=True)
    assert raw_state(target) == scenario.states[2]


def test_a_backup_made_before_uuids_and_fingerprints_were_recorded_still_recovers(scenario, target, tmp_path):
    manifest, folder, scratch = backups.read_backup(scenario.backup)
    old = tmp_path / "old-backup"
    shutil.copytree(folder, old)
    shutil.rmtree(scratch, ignore_errors=True)
    for entry in manifest["collections"].values():
        assert entry.pop("uuid")
    assert manifest["consistent_as_of"].pop("oplog_entry_sha256")
    manifest["manifest_sha256"] = backups._manifest_digest(manifest)
    (old / "manifest.json").write_text(json.dumps(manifest, indent=2))
    oplog_replay.recover_database(target, old, Moment(wall=scenario.moments[2]), archive=scenario.archive,
                                  live_client=scenario.client)
    assert raw_state(target) == scenario.states[2]


def test_a_moment_before_the_backup_is_refused(scenario, target):
    before = scenario.backed_up_at - dt.timedelta(seconds=5)
    with pytest.raises(RecoveryError, match="is before the backup's moment"):
        oplog_replay.recover_database(target, scenario.backup, Moment(wall=before), archive=scenario.archive,
                                      live_client=scenario.client)
    assert target.list_collection_names() == []


def test_a_missing_segment_is_refused_naming_the_gap(scenario, target, tmp_path):
    archive = tmp_path / "archive"
    shutil.copytree(scenario.archive, archive)
    segments = sorted(archive.glob("oplog-*.seg"))
    lost = segments[len(segments) // 2]
    first, last = (int(part) for part in lost.stem.split("-")[1:])
    lost.unlink()
    missing = f"seq {first}–{last}" if last > first else f"seq {first}"
    with pytest.raises(RecoveryError, match=f"entries {missing} are missing from the oplog archive, between"):
        oplog_replay.recover_database(target, scenario.backup, Moment(), archive=archive,
                                      live_client=scenario.client)
    assert target.list_collection_names() == []
    # A moment before the gap (after the backup) is still reachable, from the archive alone.
    runs, gaps = oplog_replay.read_archive(archive)
    assert [gap.missing for gap in gaps] == [missing]
    backup_ts = Timestamp(*scenario_manifest(scenario)["consistent_as_of"]["oplog_ts"])
    before_gap = [entry for entry in runs[0].entries if backup_ts < entry.ts < gaps[0].after.ts][-1]
    summary = oplog_replay.recover_database(target, scenario.backup, Moment(ts=before_gap.ts), archive=archive,
                                            live_client=None)
    assert summary.reached == str(Moment(ts=before_gap.ts)) and summary.applied > 0


def scenario_manifest(scenario) -> dict:
    manifest, _, scratch = backups.read_backup(scenario.backup)
    shutil.rmtree(scratch, ignore_errors=True)
    return manifest


def test_an_archive_of_another_server_is_refused(scenario, target, tmp_path):
    port = localstack.free_port()
    other = localstack.start_embedded_mongodb(port, tmp_path / "data", oplog_archive_dir=tmp_path / "other",
                                              oplog_max_entries=5)
    try:
        with MongoClient(localstack.embedded_mongodb_uri(port)) as client:
            _seed(client.books)  # the same database and collection names, another server
            client.books.accounts.update_many({}, {"$set": {"x": 1}})
            prune(client)
            with pytest.raises(RecoveryError, match="from another server"):
                oplog_replay.recover_database(target, scenario.backup, Moment(), archive=tmp_path / "other",
                                              live_client=client)
    finally:
        other.stop()
    assert target.list_collection_names() == []

    # Its segments added after this server's own (numbered on): the collections' UUIDs tell them apart.
    archive = tmp_path / "mixed"
    shutil.copytree(scenario.archive, archive)
    last_seq = oplog_replay.read_archive(archive)[0][-1].entries[-1].seq
    foreign = [entry for run in oplog_replay.read_archive(tmp_path / "other")[0] for entry in run.entries
               if entry.ns == "books.accounts" and entry.op == "u"]
    frames = b""
    for n, entry in enumerate(foreign, start=last_seq + 1):
        blob = bson.encode({"s": n, "e": entry.raw})
        frames += struct.pack(">I", len(blob)) + blob
    (archive / f"oplog-{last_seq + 1:020d}-{last_seq + len(foreign):020d}.seg").write_bytes(frames)
    with pytest.raises(RecoveryError, match="is for another collection books.accounts .*from another server"):
        oplog_replay.recover_database(target, scenario.backup, Moment(), archive=archive, live_client=None)
    assert target.list_collection_names() == []


def test_another_servers_entry_at_the_backups_timestamp_is_refused(scenario, target, tmp_path):
    # Two servers both write at (second, increment) timestamps: a stranger's oplog can hold an entry at
    # the backup's very timestamp. Here the archive's entry there is rewritten into another write.
    archive = tmp_path / "archive"
    shutil.copytree(scenario.archive, archive)
    head_ts = Timestamp(*scenario_manifest(scenario)["consistent_as_of"]["oplog_ts"])
    rewritten = 0
    for segment in archive.glob("oplog-*.seg"):
        data, offset, frames = segment.read_bytes(), 0, b""
        while offset < len(data):
            (length,) = struct.unpack_from(">I", data, offset)
            frame = bson.decode(data[offset + 4:offset + 4 + length])
            offset += 4 + length
            if frame["e"]["ts"] == head_ts:
                frame["e"]["wall"] = frame["e"]["wall"] + dt.timedelta(milliseconds=1)
                rewritten += 1
            blob = bson.encode(frame)
            frames += struct.pack(">I", len(blob)) + blob
        segment.write_bytes(frames)
    assert rewritten == 1
    with pytest.raises(RecoveryError, match="entry at the backup's position .* is another write .*another server"):
        oplog_replay.recover_database(target, scenario.backup, Moment(wall=scenario.moments[2]), archive=archive,
                                      live_client=None)
    assert target.list_collection_names() == []


def test_a_moment_past_the_archive_without_its_server_is_refused(scenario, target):
    later = scenario.moments[3] + dt.timedelta(seconds=1)
    with pytest.raises(RecoveryError, match="the oplog known ends at .*pass it with --oplog-from"):
        oplog_replay.recover_database(target, scenario.backup, Moment(wall=later), archive=scenario.archive,
                                      live_client=target.client)  # an unrelated (empty) server: not used
    assert target.list_collection_names() == []


def test_without_the_archive_a_pruned_oplog_is_refused(scenario, target, tmp_path):
    # The server's live oplog no longer holds the backup's position (pruned): only the archive had it.
    with pytest.raises(RecoveryError, match="the oplog known starts at .*after the backup's moment"):
        oplog_replay.recover_database(target, scenario.backup, Moment(), archive=tmp_path / "nothing-here",
                                      live_client=scenario.client)
    assert target.list_collection_names() == []


def test_no_archive_and_no_oplog_is_refused(scenario, target, tmp_path):
    with pytest.raises(RecoveryError, match="no oplog to replay: no archive segment"):
        oplog_replay.recover_database(target, scenario.backup, Moment(wall=scenario.moments[1]),
                                      archive=tmp_path / "nothing-here", live_client=None)
    # The target's own oplog (a server started after the backup) is no substitute.
    with pytest.raises(RecoveryError, match="from another server .*no oplog archive at .*nothing-here"):
        oplog_replay.recover_database(target, scenario.backup, Moment(wall=scenario.moments[1]),
                                      archive=tmp_path / "nothing-here", live_client=target.client)
    assert target.list_collection_names() == []


def test_a_non_empty_database_is_refused_without_force(scenario, target):
    target.keep.insert_one({"mine": True})
    with pytest.raises(RecoveryError, match="is not empty.*--force"):
        oplog_replay.recover_database(target, scenario.backup, Moment(), archive=scenario.archive,
                                      live_client=scenario.client)
    assert target.list_collection_names() == ["keep"]


@pytest.mark.parametrize("until, expected", [
    ("yesterday", "must be an ISO 8601 moment"),
    ("2000-01-01T00:00:00Z", "is before the backup's moment"),
])
def test_the_command_refuses_before_writing(scenario, until, expected, db):
    before = raw_state(connection.get_database())
    with pytest.raises(CommandError, match=expected):
        call_command("restore", str(scenario.backup), "--until", until, "--oplog-archive", str(scenario.archive),
                     "--oplog-from", scenario.uri, "--force")
    assert raw_state(connection.get_database()) == before


def test_the_command_checks_a_recovery_without_writing(scenario, db, capsys):
    before = raw_state(connection.get_database())
    call_command("restore", str(scenario.backup), "--check", "--until", scenario.moments[2].isoformat(),
                 "--oplog-archive", str(scenario.archive), "--oplog-from", scenario.uri)
    out = capsys.readouterr().out
    assert "point-in-time recovery OK" in out and "oplog entries of 'books'" in out
    assert raw_state(connection.get_database()) == before


def test_the_command_says_when_there_is_no_archive(scenario, db, tmp_path):
    # The test database server never wrote this backup: no archive, and its live oplog is another one.
    with pytest.raises(CommandError, match=r"\(and there is no oplog archive at .*nothing: runstack keeps it"):
        call_command("restore", str(scenario.backup), "--check", "--until", "latest",
                     "--oplog-archive", str(tmp_path / "nothing"))


def test_the_command_reports_an_unreachable_oplog_source(scenario, db):
    with pytest.raises(CommandError, match="cannot read the oplog of mongodb://127.0.0.1:1/"):
        call_command("restore", str(scenario.backup), "--check", "--until", "latest",
                     "--oplog-from", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300")


def test_backup_and_restore_commands_work_with_query_logging_on(db, tmp_path):
    # Under DEBUG (`make run`) Django hands out a query-logging wrapper for the database.
    connection.force_debug_cursor = True
    try:
        call_command("backup", str(tmp_path / "b"))
        call_command("restore", str(tmp_path / "b"), "--check")
    finally:
        connection.force_debug_cursor = False


def test_until_oplog_ts_is_parsed_and_checked():
    assert oplog_replay.parse_moment(None, "1796204344:20").ts == Timestamp(1796204344, 20)
    assert oplog_replay.parse_moment("2026-12-02T10:15:00+01:00", None).wall == dt.datetime(
        2026, 12, 2, 9, 15, tzinfo=dt.timezone.utc)
    assert oplog_replay.parse_moment("2026-12-02T10:15:00", None).wall.tzinfo == dt.timezone.utc
    assert oplog_replay.parse_moment("latest", None).latest
    with pytest.raises(RecoveryError, match="SECONDS:INCREMENT"):
        oplog_replay.parse_moment(None, "soon")
    with pytest.raises(RecoveryError, match="not both"):
        oplog_replay.parse_moment("latest", "1:1")
