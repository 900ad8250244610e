"""Point-in-time recovery on the embedded SecantusDB: a backup (core/backups.py), then the oplog
replayed from the backup's moment up to a chosen moment.

**Where the oplog comes from.** The server keeps its recent oplog (`local.oplog.rs`: the last hour, at
most 100,000 entries). Started with `--oplog-archive-dir DIR` (runstack does it, in
`DATA_DIR/mongodb-oplog/`), it first writes every row it is about to prune to a segment file in DIR:

    oplog-<first seq>-<last seq>.seg   20-digit zero-padded sequence numbers, so names sort in order;
                                       a stream of frames: 4-byte big-endian length, then one BSON
                                       document {s: seq, e: the oplog entry, p: pre-image or absent}

Each entry is mongod-shaped: `ts` (Timestamp), `wall` (UTC date, ms), `op` (`i` insert, `u` update,
`d` delete, `c` command, `n` no-op), `ns` (`db.collection`, `db.$cmd` for commands), `ui` (the
collection's UUID), `o` (the document, the `$v: 2` update description `{diff: {updatedFields,
removedFields, truncatedArrays}}` or a whole replacement, the command), `o2` (`{_id}` of the document).
A multi-document transaction is no `applyOps`: it is one entry per statement, all with the same `ts`
and `wall` and with `lsid` + `txnNumber`. Sequence numbers are contiguous (one per entry), so a missing
segment is a visible gap; the live `local.oplog.rs` shows no sequence numbers, and starts right where
the archive ends (the server archives rows before it deletes them).

**The replay.** `plan_recovery` reads and checks everything before any write: the backup (checksums),
the archive (every segment's framing and sequence, gaps), the live oplog of a source server (the one
that wrote the archive; by default the database server itself, read before anything is written); it
finds the backup's position (the entry at `consistent_as_of.oplog_ts`) and takes the entries of the
backup's database after it, up to the moment. It refuses, naming what is wrong: a moment before the
backup, entries missing between the backup and the moment (which sequence numbers, which times), an
archive without the backup's position or whose entries name other collections (UUIDs) than the
backup's (another server or database), a moment after the newest entry known. `recover_database` then
restores the backup (refusing a non-empty database unless `force`, as a plain restore) and applies the
entries in order, each transaction as one transaction, idempotently (inserts are upserts of the whole
document, updates rebuild the document from the one stored, deletes by `_id`): running it again gives
the same database.

A real MongoDB has no such archive and another oplog format: use its own tooling (Atlas continuous
backup, Ops Manager, or `mongodump --oplog` / `mongorestore --oplogReplay --oplogLimit`).

No Django import: the commands pass pymongo objects.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import shutil
import struct
from dataclasses import dataclass, field
from pathlib import Path

import bson
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from bson.timestamp import Timestamp
from pymongo import DeleteOne, MongoClient, ReplaceOne
from pymongo.database import Database
from pymongo.errors import OperationFailure

from core.backups import (RAW, BackupError, BackupSummary, database_is_empty, oplog_entry_fingerprint, read_backup,
                          restore_verified)

SEGMENT_NAME = re.compile(r"^oplog-(\d{20})-(\d{20})\.seg$")
_FRAME = struct.Struct(">I")
PLAIN = CodecOptions(tz_aware=True)  # decoded values keep their BSON types (Int64 stays Int64)
_INDEX_NOT_FOUND = 27
_NAMESPACE_NOT_FOUND = 26


class RecoveryError(BackupError):
    """Point-in-time recovery that must not go ahead; the message says why (nothing was written)."""


# --- the moment ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Moment:
    """Where the replay stops: after the last entry at or before `wall` (UTC) or `ts`, or `latest`."""

    wall: dt.datetime | None = None
    ts: Timestamp | None = None

    @property
    def latest(self) -> bool:
        return self.wall is None and self.ts is None

    def passed_by(self, entry: "Entry") -> bool:
        if self.ts is not None:
            return entry.ts > self.ts
        if self.wall is not None:
            return entry.wall > self.wall
        return False

    def __str__(self) -> str:
        if self.ts is not None:
            return f"oplog time {self.ts.time}:{self.ts.inc} ({_iso(_ts_wall(self.ts))})"
        return _iso(self.wall) if self.wall is not None else "the newest entry"


def parse_moment(until: str | None = None, until_oplog_ts: str | None = None) -> Moment:
    """`--until 2026-12-02T10:15:00Z` (an ISO moment, UTC unless it says otherwise; `latest` for the
    newest entry known) or `--until-oplog-ts 1796204344:20` (seconds:increment)."""
    if until and until_oplog_ts:
        raise RecoveryError("give --until or --until-oplog-ts, not both")
    if until_oplog_ts:
        match = re.fullmatch(r"\s*(\d+)\s*[:,]\s*(\d+)\s*", until_oplog_ts)
        if not match or int(match[1]) >= 2 ** 32 or int(match[2]) >= 2 ** 32:
            raise RecoveryError(f"--until-oplog-ts must be SECONDS:INCREMENT (e.g. 1796204344:20), not {until_oplog_ts!r}")
        return Moment(ts=Timestamp(int(match[1]), int(match[2])))
    if not until or until.strip().lower() == "latest":
        return Moment()
    text = until.strip()
    try:
        moment = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        raise RecoveryError(f"--until must be an ISO 8601 moment such as 2026-12-02T10:15:00Z, or latest; "
                            f"not {until!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return Moment(wall=moment.astimezone(dt.timezone.utc))


def _iso(moment: dt.datetime | None) -> str:
    if moment is None:
        return "?"
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ts_wall(ts: Timestamp) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts.time, dt.timezone.utc)


def _utc(value) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        return dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


# --- oplog entries ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    raw: RawBSONDocument
    seq: int | None  # known for archived entries only
    ts: Timestamp
    wall: dt.datetime
    op: str
    ns: str
    ui: bytes | None
    transaction: tuple | None  # (lsid bytes, txnNumber) of a multi-document transaction's statement

    @classmethod
    def of(cls, raw: RawBSONDocument, seq: int | None, where: str) -> "Entry":
        ts = raw.get("ts")
        if not isinstance(ts, Timestamp) or not isinstance(raw.get("op"), str):
            raise RecoveryError(f"{where}: an oplog entry without ts or op; not a SecantusDB oplog")
        ui = raw.get("ui")
        lsid, txn = raw.get("lsid"), raw.get("txnNumber")
        transaction = (bytes(lsid.raw), int(txn)) if lsid is not None and txn is not None else None
        return cls(raw=raw, seq=seq, ts=ts, wall=_utc(raw.get("wall")) if raw.get("wall") else _ts_wall(ts),
                   op=raw["op"], ns=str(raw.get("ns", "")), ui=bytes(ui) if ui is not None else None,
                   transaction=transaction)

    def describe(self) -> str:
        seq = f"seq {self.seq}, " if self.seq is not None else ""
        return f"{seq}{_iso(self.wall)}, ts {self.ts.time}:{self.ts.inc}"


@dataclass
class Run:
    """Entries known to follow each other with nothing missing in between."""

    entries: list[Entry]
    origin: str


@dataclass(frozen=True)
class Gap:
    after: Entry
    before: Entry
    missing: str  # "seq 12–20"

    def message(self) -> str:
        return (f"entries {self.missing} are missing from the oplog archive, between {_iso(self.after.wall)} "
                f"and {_iso(self.before.wall)} (a segment file deleted or not restored?)")


def read_archive(folder: Path) -> tuple[list[Run], list[Gap]]:
    """The archived oplog of `folder` as runs of contiguous sequence numbers, and the gaps between them.
    A damaged segment is refused (RecoveryError naming the file)."""
    files = []
    for path in folder.iterdir():
        match = SEGMENT_NAME.match(path.name)
        if match and path.is_file():
            files.append((int(match[1]), int(match[2]), path))
    files.sort()
    runs: list[Run] = []
    gaps: list[Gap] = []
    last: Entry | None = None
    for first, final, path in files:
        entries = list(_read_segment(path, first, final))
        if last is not None and first <= last.seq:
            if final <= last.seq:  # wholly covered by what was read already (a copied duplicate)
                continue
            raise RecoveryError(f"{path}: overlaps the segment before it (seq {first} ≤ {last.seq}); "
                                "the archive holds segments of two servers?")
        if last is None or first != last.seq + 1:
            if last is not None:
                missing = f"seq {last.seq + 1}" + (f"–{first - 1}" if first - 1 > last.seq + 1 else "")
                gaps.append(Gap(after=last, before=entries[0], missing=missing))
            runs.append(Run([], f"oplog archive {folder}"))
        runs[-1].entries.extend(entries)
        last = entries[-1]
    return runs, gaps


def _read_segment(path: Path, first: int, final: int):
    data = path.read_bytes()
    offset, expected = 0, first
    while offset < len(data):
        if offset + _FRAME.size > len(data):
            raise RecoveryError(f"{path} is corrupted: a truncated frame at byte {offset}")
        (length,) = _FRAME.unpack_from(data, offset)
        offset += _FRAME.size
        if length < 5 or offset + length > len(data):
            raise RecoveryError(f"{path} is corrupted: a bad frame length at byte {offset - _FRAME.size}")
        try:
            frame = bson.decode(data[offset:offset + length], codec_options=RAW)
            seq, entry = int(frame["s"]), frame["e"]
        except Exception:  # not BSON, or not a segment frame
            raise RecoveryError(f"{path} is corrupted: an unreadable entry at byte {offset}") from None
        offset += length
        if seq != expected:
            raise RecoveryError(f"{path} is corrupted: seq {seq} where {expected} was expected")
        expected += 1
        yield Entry.of(entry, seq, str(path))
    if expected != final + 1:
        raise RecoveryError(f"{path} is incomplete: it ends at seq {expected - 1}, its name says {final}")


@dataclass
class LiveOplog:
    entries: list[Entry]
    read_at: Timestamp  # every write at or before this is in `entries`
    read_at_wall: dt.datetime
    uri: str


def read_live_oplog(client: MongoClient, describe: str) -> LiveOplog | None:
    """The live `local.oplog.rs` of a SecantusDB server, or None when it is not one (a real MongoDB's
    oplog is another format: its own tools replay it)."""
    info = client.server_info()
    if "secantusVersion" not in info:
        return None
    hello = client.admin.command("hello")  # before the read: nothing up to this is missed by it
    last_write = hello.get("lastWrite", {}).get("opTime", {}).get("ts")
    read_at = last_write if isinstance(last_write, Timestamp) else hello.get("operationTime")
    rows = client.local.get_collection("oplog.rs", codec_options=RAW).find({}, sort=[("$natural", 1)])
    entries = [Entry.of(row, None, describe) for row in rows]
    return LiveOplog(entries=entries, read_at=read_at, read_at_wall=_utc(hello.get("localTime")), uri=describe)


def _is_genesis(entry: Entry) -> bool:
    return entry.op == "n" and (entry.raw.get("o") or {}).get("msg") == "initiating set"


# --- planning -----------------------------------------------------------------------------------------
@dataclass
class Plan:
    manifest: dict
    folder: Path
    scratch: Path | None
    moment: Moment
    entries: list[Entry]  # of the backup's database, in order, after the backup and up to the moment
    reached: str  # the moment the replay brings the database to
    notes: list[str] = field(default_factory=list)


def plan_recovery(source: str | Path, moment: Moment, *, archive: Path | None,
                  live_client: MongoClient | None = None, live_name: str = "the database server",
                  live_required: bool = False) -> Plan:
    """Verify the backup and the oplog, and list the entries to apply. Writes nothing."""
    manifest, folder, scratch = read_backup(source)
    try:
        return _plan(manifest, folder, scratch, moment, archive, live_client, live_name, live_required)
    except BaseException:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        raise


def _plan(manifest, folder, scratch, moment, archive, live_client, live_name, live_required) -> Plan:
    notes: list[str] = []
    head = BackupPosition(Timestamp(*manifest["consistent_as_of"]["oplog_ts"]),
                          manifest["consistent_as_of"].get("oplog_entry_sha256"))
    head_ts = head.ts
    backup_wall = _utc(dt.datetime.fromisoformat(manifest["consistent_as_of"]["wall"]))
    if (moment.ts is not None and moment.ts < head_ts) or (moment.wall is not None and moment.wall < backup_wall):
        raise RecoveryError(f"{moment} is before the backup's moment ({_iso(backup_wall)}, oplog time "
                            f"{head_ts.time}:{head_ts.inc}): restore an older backup for it")

    runs: list[Run] = []
    gaps: list[Gap] = []
    if archive is not None and archive.is_dir():
        runs, gaps = read_archive(archive)
        if not runs:
            notes.append(f"the oplog archive {archive} holds no segment yet (the server archives what it prunes "
                         "from its oplog: after an hour or 100,000 entries)")
    else:
        notes.append(f"no oplog archive at {archive}: only the live oplog can be replayed" if archive
                     else "no oplog archive given: only the live oplog can be replayed")

    live = read_live_oplog(live_client, live_name) if live_client is not None else None
    if live_client is not None and live is None:
        message = (f"{live_name} is not the embedded SecantusDB server: its oplog cannot be replayed here; on a "
                   "real MongoDB use its own tooling (Atlas continuous backup, Ops Manager, or mongodump --oplog "
                   "with mongorestore --oplogReplay --oplogLimit)")
        if live_required or not runs:
            raise RecoveryError(message)
        notes.append(message)
    if live is not None and live.entries:
        used = _join_live(runs, live, head)
        if used == "alone":
            gaps = []
        if used is None:
            message = (f"the live oplog of {live_name} does not continue this archive or reach the backup's "
                       "position (another server, or a restarted empty one): not used")
            if live_required:
                raise RecoveryError(message)
            notes.append(message)
            live = None
    elif live is not None:
        live = None

    try:
        position = _find_position(runs, head, backup_wall, archive)
    except RecoveryError as error:
        if archive is not None and not archive.is_dir():
            raise RecoveryError(f"{error} (and there is no oplog archive at {archive}: runstack keeps it in "
                                "DATA_DIR/mongodb-oplog; on a real MongoDB use its own tooling)") from None
        raise
    database = manifest["database"]
    selected, reached_past = _select(runs, gaps, position, moment)
    if not reached_past:
        reached = _check_coverage_end(runs, live, moment, archive, live_name, notes)
        if reached is None:  # the archive ends inside a transaction: that one stays out
            last_ts = runs[-1].entries[-1].ts
            selected = [entry for entry in selected if entry.ts != last_ts]
            reached = _iso(selected[-1].wall) if selected else _iso(backup_wall)
    else:
        reached = str(moment)
    entries = _of_database(selected, database)
    _check_namespaces(entries, manifest)
    return Plan(manifest=manifest, folder=folder, scratch=scratch, moment=moment, entries=entries,
                reached=reached, notes=notes)


@dataclass(frozen=True)
class BackupPosition:
    """The oplog entry a backup is consistent as of. Backups made before the fingerprint was recorded
    are matched on the timestamp alone."""

    ts: Timestamp
    fingerprint: str | None

    def is_at(self, entry: Entry) -> bool:
        return entry.ts == self.ts and (self.fingerprint is None
                                         or oplog_entry_fingerprint(entry.raw) == self.fingerprint)


def _join_live(runs: list[Run], live: LiveOplog, head: BackupPosition) -> str | None:
    """Put the live oplog after the archive when it continues it ("joined"), use it instead when it
    reaches the backup by itself and the archive does not ("alone"), or None: it does neither."""
    oldest = live.entries[0]
    run = Run(list(live.entries), f"live oplog of {live.uri}")
    reaches_backup = oldest.ts <= head.ts and any(head.is_at(entry) for entry in live.entries)
    if not runs:  # the live oplog is all there is (if it misses the backup's position, that is refused)
        runs.append(run)
        return "alone"
    if _is_genesis(oldest):
        # No archive, or a server that never pruned its oplog (its first entry is still there): the
        # archive, if any, is not its history.
        if reaches_backup:
            runs[:] = [run]
            return "alone"
        return None
    last = runs[-1].entries[-1]
    if oldest.ts < last.ts:
        return None  # older than the archive's end: the archive is of another (or a later) timeline
    runs[-1].entries.extend(live.entries)  # the server archives a row before deleting it from its oplog
    runs[-1].origin += f" + live oplog of {live.uri}"
    return "joined"


def _find_position(runs: list[Run], head: BackupPosition, backup_wall: dt.datetime, archive) -> tuple[int, int]:
    head_ts = head.ts
    for r, run in enumerate(runs):
        hits = [i for i, entry in enumerate(run.entries) if head.is_at(entry)]
        if hits:
            return r, hits[-1]
    if not runs:
        raise RecoveryError(f"no oplog to replay: no archive segment in {archive} and no live oplog that reaches "
                            f"the backup's moment ({_iso(backup_wall)})")
    stranger = next((entry for run in runs for entry in run.entries if entry.ts == head_ts), None)
    if stranger is not None:
        raise RecoveryError(f"the oplog's entry at the backup's position ({stranger.describe()}, {stranger.op} "
                            f"{stranger.ns or '-'}) is another write than the one the backup was taken after: "
                            "this oplog is from another server than the backup")
    first, last = runs[0].entries[0], runs[-1].entries[-1]
    if first.ts > head_ts and (first.seq == 1 or _is_genesis(first)):
        raise RecoveryError(f"the oplog begins with its server's first entry at {first.describe()}, after the "
                            f"backup's moment ({_iso(backup_wall)}): it is from another server (or one started "
                            "afresh) than the backup")
    if first.ts > head_ts:
        raise RecoveryError(f"the oplog known starts at {first.describe()}, after the backup's moment "
                            f"({_iso(backup_wall)}): the entries in between are missing; take a new backup "
                            "(the archive only holds what the server pruned since it was turned on)")
    if last.ts < head_ts:
        raise RecoveryError(f"the oplog known ends at {last.describe()}, before the backup's moment "
                            f"({_iso(backup_wall)}): the entries after the backup are missing (pass the server "
                            "that wrote them with --oplog-from)")
    raise RecoveryError(f"the oplog has no entry at the backup's position (oplog time {head_ts.time}:{head_ts.inc}): "
                        "this archive is from another server or database than the backup")


def _select(runs, gaps, position, moment) -> tuple[list[Entry], bool]:
    """Entries after the backup's position up to the moment, and whether an entry past the moment was
    seen (else the oplog ran out first); refuses a gap on the way."""
    r0, i0 = position
    selected: list[Entry] = []
    for r in range(r0, len(runs)):
        if r > r0:
            gap = gaps[r - 1] if r - 1 < len(gaps) else None
            raise RecoveryError((gap.message() if gap else f"the oplog is not continuous before {runs[r].origin}")
                                + f": cannot replay up to {moment}; choose a moment before "
                                f"{_iso((gap.after if gap else runs[r - 1].entries[-1]).wall)} or restore the "
                                "missing segments")
        entries = runs[r].entries[i0 + 1:] if r == r0 else runs[r].entries
        for entry in entries:
            if moment.passed_by(entry):
                return selected, True
            selected.append(entry)
    return selected, False


def _check_coverage_end(runs, live, moment, archive, live_name, notes) -> str | None:
    """The oplog ran out before passing the moment: is nothing missing up to it?"""
    last = runs[-1].entries[-1]
    if live is not None:
        end_ts, end_wall = live.read_at, live.read_at_wall
        if (moment.ts is not None and moment.ts > end_ts) or (moment.wall is not None and moment.wall > end_wall):
            raise RecoveryError(f"{moment} is later than now on {live_name} ({_iso(end_wall)}): choose a past "
                                "moment, or latest")
        return str(moment) if not moment.latest else f"{_iso(end_wall)} (the newest write)"
    if last.transaction is not None:
        # A segment can end in the middle of a transaction (the server prunes by entry count): without
        # the live oplog, the rest of it is unknown, so it is left out whole.
        if not moment.latest:
            raise RecoveryError(f"the oplog archive {archive} ends inside a transaction at {last.describe()}, "
                                f"before {moment}: pass the server that wrote it with --oplog-from, or choose a "
                                f"moment before {_iso(last.wall)}")
        notes.append(f"the archive ends inside a transaction at {last.describe()}: it is left out whole")
        return None
    if not moment.latest:
        raise RecoveryError(f"the oplog known ends at {last.describe()}, before {moment}: the later entries are in "
                            f"the live oplog of the server that wrote the archive (pass it with --oplog-from), or "
                            f"choose a moment up to {_iso(last.wall)} (or latest)")
    return f"{_iso(last.wall)} (the newest archived entry)"


def _of_database(entries: list[Entry], database: str) -> list[Entry]:
    prefix = database + "."
    mine = []
    for entry in entries:
        if entry.op == "n":
            continue
        if not entry.ns.startswith(prefix):
            command = (entry.raw.get("o") or {}) if entry.op == "c" else {}
            if "applyOps" in command or str(command.get("to", "")).startswith(prefix):
                raise RecoveryError(f"cannot replay the command at {entry.describe()} ({next(iter(command))} "
                                    f"from {entry.ns}); restore to a moment before it")
            continue
        collection = entry.ns[len(prefix):]
        if collection.startswith("system."):
            continue
        mine.append(entry)
    return mine


_COMMANDS = ("create", "drop", "createIndexes", "dropIndexes", "collMod", "renameCollection", "dropDatabase")


def _check_namespaces(entries: list[Entry], manifest: dict) -> None:
    """Every entry is one the replay knows, and names the collections the backup has (same UUIDs):
    an oplog of another server or database is refused before anything is written."""
    database = manifest["database"]
    known: dict[str, bytes | None] = {}  # collection -> its UUID (None: not known, adopt the first seen)
    for name, entry in manifest["collections"].items():
        known[name] = bytes.fromhex(entry["uuid"]) if entry.get("uuid") else None
    for entry in entries:
        if entry.op == "c":
            command = entry.raw["o"]
            kind = next((key for key in _COMMANDS if key in command), None)
            if kind is None:
                raise RecoveryError(f"cannot replay the command at {entry.describe()} ({list(command)[:1]}); "
                                    "restore to a moment before it")
            if kind == "create":
                known[command["create"]] = entry.ui
            elif kind == "drop":
                known.pop(command["drop"], None)
            elif kind == "dropDatabase":
                known.clear()
            elif kind == "renameCollection":
                source, target = str(command["renameCollection"]), str(command["to"])
                if not (source.startswith(database + ".") and target.startswith(database + ".")):
                    raise RecoveryError(f"cannot replay the rename {source} -> {target} at {entry.describe()}: "
                                        "it crosses databases; restore to a moment before it")
                known.pop(source.split(".", 1)[1], None)
                known[target.split(".", 1)[1]] = None  # SecantusDB gives the renamed collection a new UUID
            continue
        if entry.op not in ("i", "u", "d"):
            raise RecoveryError(f"cannot replay the entry at {entry.describe()} (op {entry.op!r})")
        collection = entry.ns.split(".", 1)[1]
        if entry.op in ("u", "d") and "_id" not in (entry.raw.get("o2") or entry.raw.get("o") or {}):
            raise RecoveryError(f"the entry at {entry.describe()} names no document (_id)")
        expected = known.get(collection, None)
        if collection in known and expected is not None and entry.ui is not None and entry.ui != expected:
            raise RecoveryError(f"the oplog entry at {entry.describe()} is for another collection {entry.ns} "
                                f"(UUID {entry.ui.hex()}, the backup's is {expected.hex()}): this oplog is from "
                                "another server or database than the backup")
        if collection in known and expected is None:
            known[collection] = entry.ui
        elif collection not in known:
            known[collection] = entry.ui  # implicitly created by its first insert


# --- applying -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RecoverySummary:
    restored: BackupSummary
    applied: int
    transactions: int
    missing_documents: int
    reached: str
    notes: tuple[str, ...]


def recover_database(db: Database, source: str | Path, moment: Moment, *, archive: Path | None,
                     live_client: MongoClient | None = None, live_name: str = "the database server",
                     live_required: bool = False, force: bool = False) -> RecoverySummary:
    """Restore the backup `source` into `db`, then replay the oplog up to `moment`. Everything is read and
    verified before the first write; a non-empty `db` is refused unless `force`."""
    if not force and not database_is_empty(db):
        raise RecoveryError(f"database {db.name!r} is not empty; restore into an empty database, or pass "
                            "--force to drop what it holds first")
    plan = plan_recovery(source, moment, archive=archive, live_client=live_client, live_name=live_name,
                         live_required=live_required)
    try:
        restored = restore_verified(db, plan.manifest, plan.folder, source, force=force)
        applied, transactions, missing = apply_entries(db, plan.entries)
    finally:
        if plan.scratch:
            shutil.rmtree(plan.scratch, ignore_errors=True)
    return RecoverySummary(restored=restored, applied=applied, transactions=transactions,
                           missing_documents=missing, reached=plan.reached, notes=tuple(plan.notes))


def apply_entries(db: Database, entries: list[Entry], *, batch: int = 1000) -> tuple[int, int, int]:
    """Apply oplog entries to `db` in order, each transaction's statements in one transaction.
    Returns (entries applied, transactions, updates whose document was not there)."""
    applied = transactions = missing = 0
    i = 0
    while i < len(entries):
        entry = entries[i]
        if entry.op == "c":
            _apply_command(db, entry.raw["o"], None)
            applied += 1
            i += 1
            continue
        j = i + 1
        if entry.transaction is None:
            while j < len(entries) and j - i < batch and entries[j].op != "c" and entries[j].transaction is None:
                j += 1
            missing += _apply_documents(db, entries[i:j], None)
        else:
            while j < len(entries) and entries[j].transaction == entry.transaction and entries[j].ts == entry.ts:
                j += 1
            group = entries[i:j]
            for command in (statement for statement in group if statement.op == "c"):
                _apply_command(db, command.raw["o"], None)  # idempotent DDL first: no DDL in a transaction
            statements = [statement for statement in group if statement.op != "c"]
            counts: list[int] = []

            def work(session, statements=statements, counts=counts):
                counts[:] = [_apply_documents(db, statements, session)]

            with db.client.start_session() as session:
                session.with_transaction(work)
            missing += counts[0]
            transactions += 1
        applied += j - i
        i = j
    return applied, transactions, missing


def _apply_documents(db: Database, entries: list[Entry], session) -> int:
    """Inserts, updates and deletes, one write per entry in their order (so unique indexes see what they
    saw), sent as ordered bulk writes; the documents updates start from are read in one query per
    collection. Returns how many updates found no document (they change nothing, as they did not)."""
    from secantus.diff import apply_update_description  # loads the embedded server: only a replay needs it

    keyed = []
    wanted: dict[str, dict[bytes, object]] = {}
    set_before: set[tuple[str, bytes]] = set()
    for entry in entries:
        name = entry.ns.split(".", 1)[1]
        document_id = entry.raw["o"]["_id"] if entry.op == "i" else (entry.raw.get("o2") or entry.raw["o"])["_id"]
        key = bson.encode({"_id": document_id})
        if entry.op == "u" and (name, key) not in set_before:
            wanted.setdefault(name, {})[key] = document_id
        set_before.add((name, key))
        keyed.append((entry, name, document_id, key))
    current: dict[tuple[str, bytes], object] = {}
    for name, ids in wanted.items():
        for document in db.get_collection(name, codec_options=PLAIN).find(
                {"_id": {"$in": list(ids.values())}}, session=session):
            current[(name, bson.encode({"_id": document["_id"]}))] = document
    missing = 0
    chunk: list = []
    chunk_name = None
    for entry, name, document_id, key in keyed:
        if name != chunk_name and chunk:
            db.get_collection(chunk_name).bulk_write(chunk, ordered=True, session=session)
            chunk = []
        chunk_name = name
        if entry.op == "i":
            current[(name, key)] = entry.raw["o"]
            chunk.append(ReplaceOne({"_id": document_id}, entry.raw["o"], upsert=True))
        elif entry.op == "d":
            current[(name, key)] = None
            chunk.append(DeleteOne({"_id": document_id}))
        else:
            before = current.get((name, key))
            if before is None:
                missing += 1
                continue
            change = bson.decode(entry.raw["o"].raw, codec_options=PLAIN)
            if change.get("$v") == 2 and "diff" in change:
                if isinstance(before, RawBSONDocument):
                    before = bson.decode(before.raw, codec_options=PLAIN)
                after = apply_update_description(copy.deepcopy(before), change["diff"])
            else:
                after = entry.raw["o"]  # a whole replacement
            current[(name, key)] = after
            chunk.append(ReplaceOne({"_id": document_id}, after))
    if chunk:
        db.get_collection(chunk_name).bulk_write(chunk, ordered=True, session=session)
    return missing


def _apply_command(db: Database, command: RawBSONDocument, session) -> None:
    o = bson.decode(command.raw, codec_options=PLAIN)
    existing = set(db.list_collection_names(session=session))
    if "create" in o:
        if o["create"] not in existing:
            options = {key: value for key, value in o.items() if key not in ("create", "idIndex")}
            db.command({"create": o["create"], **options}, session=session)
    elif "drop" in o:
        db.drop_collection(o["drop"], session=session)
    elif "dropDatabase" in o:
        for name in existing:
            if not name.startswith("system."):
                db.drop_collection(name, session=session)
    elif "createIndexes" in o:
        specs = [{key: value for key, value in spec.items() if key not in ("v", "entryFormat", "ns")}
                 for spec in o.get("indexes", [])]
        if specs:
            db.command({"createIndexes": o["createIndexes"], "indexes": specs}, session=session)
    elif "dropIndexes" in o:
        try:
            db.command({"dropIndexes": o["dropIndexes"], "index": o["index"]}, session=session)
        except OperationFailure as error:
            if error.code not in (_INDEX_NOT_FOUND, _NAMESPACE_NOT_FOUND):
                raise
    elif "collMod" in o:
        db.command({"collMod": o["collMod"], **{k: v for k, v in o.items() if k != "collMod"}}, session=session)
    elif "renameCollection" in o:
        source, target = o["renameCollection"].split(".", 1)[1], o["to"].split(".", 1)[1]
        if source in existing:  # else already renamed by an earlier run of this replay
            db.client.admin.command({"renameCollection": f"{db.name}.{source}", "to": f"{db.name}.{target}",
                                     "dropTarget": bool(o.get("dropTarget"))}, session=session)
