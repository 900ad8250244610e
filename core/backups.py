"""Backup and restore of one MongoDB database at the driver level (no mongodump needed), for the
embedded SecantusDB and a real MongoDB replica set alike.

A backup is a folder (or the same folder as one `.tar.gz` file):

    manifest.json          format, database, server version, the oplog time it is consistent as of,
                           and per collection: options, indexes, document count, bytes, SHA-256
    <collection>.bson      every document as the server stored it (raw BSON, concatenated, the
                           format of mongodump): nothing is decoded, so Decimal128, dates, ObjectIds
                           and field order come back byte for byte

**Consistent as of one moment.** The embedded server does not hold a read snapshot across cursors
(measured: a `snapshot=True` session and a snapshot-read-concern transaction both see a write made
after they started), so a backup takes the newest oplog time T0, copies every collection, and then
reads the oplog after T0: if nothing wrote to this database meanwhile, the copy is exactly the
database as of T0. If something did, it copies again (up to `attempts` times) and fails with
`BackupError` rather than write a torn backup. The same check works on a real replica set.

**Verified before any write.** Restore reads the manifest, checks its own checksum, then every file's
size, SHA-256 and document count, and refuses (`BackupError`, nothing touched) on any difference. It
refuses a database that holds any document unless `force=True` (which drops its collections first).

**Point-in-time recovery** (core/oplog_replay.py) starts from a backup: the manifest's
`consistent_as_of.oplog_ts` is the oplog position the copy is exactly (`oplog_entry_sha256` tells the
entry at it from another server's entry at the same timestamp), and each collection's `uuid`
(when the server reports one) lets the replay check that an oplog archive belongs to this database.
Backups without `uuid` (made before it was recorded) restore as before and replay without that check.

No Django import: the commands pass a pymongo `Database`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import bson
from bson import json_util
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from bson.timestamp import Timestamp
from pymongo.database import Database

FORMAT = "crypto-books-backup/1"
MANIFEST = "manifest.json"
RAW = CodecOptions(document_class=RawBSONDocument)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")
_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")


class BackupError(Exception):
    """A backup that cannot be taken, or a backup that must not be restored; the message says why."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    collections: int
    documents: int
    bytes: int
    consistent_as_of: str
    attempts: int


# --- backup -------------------------------------------------------------------------------------------
def _oplog_head(db: Database) -> RawBSONDocument | None:
    oplog = db.client.local.get_collection("oplog.rs", codec_options=RAW)
    try:
        return next(oplog.find({}).sort("$natural", -1).limit(1), None)
    except Exception:  # not a replica set: no oplog
        return None


def oplog_entry_fingerprint(entry: RawBSONDocument) -> str:
    """What tells one oplog entry from another server's entry at the same timestamp: two servers both
    write at (second, increment) positions, so a timestamp alone can match a stranger's oplog."""
    body = {key: entry[key] for key in ("ts", "wall", "op", "ns", "ui", "o", "o2") if key in entry}
    return hashlib.sha256(bson.encode(body)).hexdigest()


def _writes_since(db: Database, since: Timestamp) -> list[dict]:
    """Oplog entries after `since` that touched this database (transactions on a real mongod are one
    `admin.$cmd` applyOps entry: counted, conservatively)."""
    prefix = re.escape(db.name + ".")
    query = {"ts": {"$gt": since}, "op": {"$ne": "n"},
             "$or": [{"ns": {"$regex": f"^{prefix}"}}, {"ns": "admin.$cmd"}]}
    return list(db.client.local.oplog.rs.find(query, {"op": 1, "ns": 1, "ts": 1}).limit(20))


def _collections(db: Database) -> list[dict]:
    infos = [info for info in db.list_collections()
             if info.get("type", "collection") == "collection" and not info["name"].startswith("system.")]
    for info in infos:
        if not _SAFE_NAME.match(info["name"]):
            raise BackupError(f"collection name {info['name']!r} cannot be a file name")
    return sorted(infos, key=lambda info: info["name"])


def _copy_collection(db: Database, name: str, folder: Path) -> dict:
    digest = hashlib.sha256()
    count = size = 0
    with open(folder / f"{name}.bson", "wb") as out:
        for document in db.get_collection(name, codec_options=RAW).find({}, sort=[("_id", 1)], batch_size=1000):
            raw = document.raw
            out.write(raw)
            digest.update(raw)
            count += 1
            size += len(raw)
    return {"documents": count, "bytes": size, "sha256": digest.hexdigest()}


def _index_specs(db: Database, name: str) -> list[dict]:
    specs = []
    for index in db[name].list_indexes():
        spec = {key: value for key, value in index.items() if key not in ("v", "ns")}
        if spec["name"] != "_id_":
            specs.append(spec)
    return specs


def backup_database(db: Database, target: str | Path, *, attempts: int = 5) -> BackupSummary:
    """Write a backup of `db` to `target`: a new or empty folder, or a file named `*.tar.gz`."""
    target = Path(target)
    archive = target.name.endswith(_ARCHIVE_SUFFIXES)
    if archive:
        if target.exists():
            raise BackupError(f"{target} already exists; choose a new file name")
        target.parent.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="backup-", dir=target.parent))
    else:
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise BackupError(f"{target} is not an empty folder; choose a new one")
        target.mkdir(parents=True, exist_ok=True)
        folder = target
    try:
        manifest, tries = _copy_consistently(db, folder, attempts)
        manifest["manifest_sha256"] = _manifest_digest(manifest)
        # Not sorted: the order of an index's keys (and of any filter document) is meaning.
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
        if archive:
            with tarfile.open(target, "w:gz") as tar:
                for path in sorted(folder.iterdir()):
                    tar.add(path, arcname=path.name)
    finally:
        if archive:
            shutil.rmtree(folder, ignore_errors=True)
    collections = manifest["collections"]
    return BackupSummary(
        path=target, collections=len(collections), documents=sum(c["documents"] for c in collections.values()),
        bytes=sum(c["bytes"] for c in collections.values()), consistent_as_of=manifest["consistent_as_of"]["wall"],
        attempts=tries,
    )


def _copy_consistently(db: Database, folder: Path, attempts: int) -> tuple[dict, int]:
    last_writes: list[dict] = []
    for attempt in range(1, attempts + 1):
        for leftover in folder.glob("*.bson"):
            leftover.unlink()
        newest = _oplog_head(db)
        head = newest["ts"] if newest is not None else None
        wall = dt.datetime.now(dt.timezone.utc).isoformat()
        collections = {}
        for info in _collections(db):
            name = info["name"]
            entry = _copy_collection(db, name, folder)
            entry["options"] = _to_json(info.get("options", {}))
            entry["indexes"] = _to_json(_index_specs(db, name))
            uuid = (info.get("info") or {}).get("uuid")
            if uuid is not None:  # the collection's identity in the oplog (`ui`): for point-in-time recovery
                entry["uuid"] = bytes(uuid).hex()
            collections[name] = entry
        if head is None:
            raise BackupError("the server has no oplog (not a replica set): a consistent backup needs one; "
                              "stop every writer and run MongoDB as a replica set")
        last_writes = _writes_since(db, head)
        if not last_writes:
            manifest = {
                "format": FORMAT,
                "database": db.name,
                "server_version": db.client.server_info().get("version", ""),
                "created_at": wall,
                "consistent_as_of": {"oplog_ts": [head.time, head.inc], "wall": wall,
                                     "oplog_entry_sha256": oplog_entry_fingerprint(newest)},
                "collections": collections,
            }
            return manifest, attempt
    seen = ", ".join(sorted({f"{w['op']} {w['ns']}" for w in last_writes}))
    raise BackupError(f"the database kept changing during {attempts} copies (last: {seen}); "
                      "try again when it is quieter, or stop the task consumer for the backup")


def _to_json(value):
    """BSON values as canonical Extended JSON (types kept: Int64 stays Int64)."""
    return json.loads(json_util.dumps(value, json_options=json_util.CANONICAL_JSON_OPTIONS))


def _from_json(value):
    return json_util.loads(json.dumps(value), json_options=json_util.CANONICAL_JSON_OPTIONS)


def _manifest_digest(manifest: dict) -> str:
    body = {key: value for key, value in manifest.items() if key != "manifest_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


# --- restore ------------------------------------------------------------------------------------------
def read_backup(source: str | Path) -> tuple[dict, Path, Path | None]:
    """(manifest, folder with the files, temporary folder to remove or None), after checking the
    manifest and every file. Raises BackupError naming the first problem."""
    source = Path(source)
    if not source.exists():
        raise BackupError(f"{source} does not exist")
    scratch = None
    if source.is_file():
        scratch = Path(tempfile.mkdtemp(prefix="restore-"))
        try:
            with tarfile.open(source, "r:*") as tar:
                members = tar.getmembers()
                for member in members:
                    if not member.isfile() or "/" in member.name or member.name.startswith("."):
                        raise BackupError(f"{source}: unexpected entry {member.name!r} in the archive")
                tar.extractall(scratch, members=members, filter="data")
        except (tarfile.TarError, EOFError, OSError) as error:
            shutil.rmtree(scratch, ignore_errors=True)
            raise BackupError(f"{source} is not a readable backup archive ({error})") from None
        except BackupError:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        folder = scratch
    else:
        folder = source
    try:
        manifest = _verified_manifest(folder)
        for name, entry in manifest["collections"].items():
            _verify_file(folder, name, entry)
    except BackupError:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        raise
    return manifest, folder, scratch


def _verified_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder}: no {MANIFEST}; not a backup made by `manage.py backup`")
    try:
        manifest = json.loads(path.read_text())
    except (UnicodeDecodeError, ValueError) as error:
        raise BackupError(f"{path} is corrupted (not JSON: {error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: unknown backup format {manifest.get('format') if isinstance(manifest, dict) else None!r}")
    if manifest.get("manifest_sha256") != _manifest_digest(manifest):
        raise BackupError(f"{path} is corrupted: its checksum does not match its content")
    for name in manifest["collections"]:
        if not _SAFE_NAME.match(name):
            raise BackupError(f"{path}: collection name {name!r} is not allowed")
    return manifest


def _verify_file(folder: Path, name: str, entry: dict) -> None:
    path = folder / f"{name}.bson"
    if not path.is_file():
        raise BackupError(f"{path} is missing from the backup")
    data = path.read_bytes()
    if len(data) != entry["bytes"]:
        raise BackupError(f"{path} is corrupted: {len(data)} bytes, the manifest says {entry['bytes']}")
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise BackupError(f"{path} is corrupted: its SHA-256 does not match the manifest")
    count = sum(1 for _ in _documents(data, path))
    if count != entry["documents"]:
        raise BackupError(f"{path} holds {count} documents, the manifest says {entry['documents']}")


def _documents(data: bytes, path: Path):
    offset = 0
    while offset < len(data):
        if offset + 5 > len(data):
            raise BackupError(f"{path} is corrupted: a truncated document at byte {offset}")
        length = int.from_bytes(data[offset:offset + 4], "little")
        if length < 5 or offset + length > len(data) or data[offset + length - 1] != 0:
            raise BackupError(f"{path} is corrupted: a bad document length at byte {offset}")
        yield RawBSONDocument(data[offset:offset + length], RAW)
        offset += length


def database_is_empty(db: Database) -> bool:
    return all(db[info["name"]].find_one({}, {"_id": 1}) is None for info in _collections(db))


def restore_database(db: Database, source: str | Path, *, force: bool = False, batch: int = 1000) -> BackupSummary:
    """Restore a backup into `db`. Everything is verified first; a non-empty `db` is refused unless
    `force`, which drops its collections (every one, also those the backup does not have)."""
    manifest, folder, scratch = read_backup(source)
    try:
        return restore_verified(db, manifest, folder, source, force=force, batch=batch)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def restore_verified(db: Database, manifest: dict, folder: Path, source: str | Path, *, force: bool = False,
                     batch: int = 1000) -> BackupSummary:
    """The writing half of `restore_database`, for a backup `read_backup` has already verified."""
    if not database_is_empty(db):
        if not force:
            raise BackupError(f"database {db.name!r} is not empty; restore into an empty database, or pass "
                              "--force to drop what it holds first")
    for info in _collections(db):
        db.drop_collection(info["name"])
    total = size = 0
    for name, entry in manifest["collections"].items():
        options = _from_json(entry["options"])
        db.command({"create": name, **options})
        indexes = _from_json(entry["indexes"])
        if indexes:
            db.command({"createIndexes": name, "indexes": indexes})
        data = (folder / f"{name}.bson").read_bytes()
        collection = db.get_collection(name, codec_options=RAW)
        pending = []
        for document in _documents(data, folder / f"{name}.bson"):
            pending.append(document)
            if len(pending) >= batch:
                collection.insert_many(pending, ordered=True)
                pending = []
        if pending:
            collection.insert_many(pending, ordered=True)
        total += entry["documents"]
        size += entry["bytes"]
    return BackupSummary(path=Path(source), collections=len(manifest["collections"]), documents=total,
                         bytes=size, consistent_as_of=manifest["consistent_as_of"]["wall"], attempts=1)
