"""`manage.py restore SOURCE [--force] [--until MOMENT]`: put a backup made by `manage.py backup` into
the app's database. The manifest and every file are verified first (checksums, sizes, document
counts); a corrupted backup is refused and nothing is written. A database that holds any document is
refused unless `--force`, which drops every collection first.

`--until 2026-12-02T10:15:00Z` (or `--until-oplog-ts SECONDS:INC`, or `--until latest`) is
point-in-time recovery on the embedded server: the backup, then the oplog replayed from the backup's
moment up to that moment, read from the server's oplog archive (`--oplog-archive`, by default
DATA_DIR/mongodb-oplog, where runstack has the server keep it) and the live oplog of the server that
wrote it (`--oplog-from URI`, by default the app's database server). Everything is checked before the
first write. See core/backups.py, core/oplog_replay.py and docs/operations.md."""

import shutil
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from core import localstack
from core.backups import BackupError, read_backup, restore_database
from core.oplog_replay import parse_moment, plan_recovery, recover_database


class Command(BaseCommand):
    help = ("Restore a backup (folder or .tar.gz) into the database; refuses a non-empty one without --force. "
            "With --until, replay the embedded server's oplog up to that moment (point-in-time recovery).")

    def add_arguments(self, parser):
        parser.add_argument("source", help="a backup folder or .tar.gz file made by `manage.py backup`")
        parser.add_argument("--force", action="store_true",
                            help="drop every collection of a non-empty database, then restore")
        parser.add_argument("--check", action="store_true",
                            help="only verify the backup (and with --until the oplog up to the moment); write nothing")
        parser.add_argument("--until", metavar="MOMENT",
                            help="point-in-time recovery up to this moment: ISO 8601 (UTC unless it says otherwise, "
                                 "e.g. 2026-12-02T10:15:00Z), or `latest` for the newest entry known")
        parser.add_argument("--until-oplog-ts", metavar="SECONDS:INC",
                            help="point-in-time recovery up to this oplog time (inclusive)")
        parser.add_argument("--oplog-archive", metavar="DIR",
                            help="the embedded server's oplog archive (default: DATA_DIR/mongodb-oplog)")
        parser.add_argument("--oplog-from", metavar="URI",
                            help="the SecantusDB server whose live oplog continues the archive (default: the app's "
                                 "database server, read before anything is written)")

    def handle(self, *args, **options):
        try:
            if options["until"] or options["until_oplog_ts"]:
                self._recover(options)
                return
            if options["oplog_archive"] or options["oplog_from"]:
                raise CommandError("--oplog-archive and --oplog-from go with --until or --until-oplog-ts")
            if options["check"]:
                manifest, _, scratch = read_backup(options["source"])
                if scratch:
                    shutil.rmtree(scratch, ignore_errors=True)
                documents = sum(c["documents"] for c in manifest["collections"].values())
                self.stdout.write(f"backup OK: {len(manifest['collections'])} collections, {documents} documents, "
                                  f"consistent as of {manifest['consistent_as_of']['wall']}")
                return
            summary = restore_database(connection.database, options["source"], force=options["force"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"restored {summary.collections} collections, {summary.documents} documents into "
            f"{connection.settings_dict['NAME']!r} (the database as of {summary.consistent_as_of})")

    def _recover(self, options) -> None:
        moment = parse_moment(options["until"], options["until_oplog_ts"])
        archive = options["oplog_archive"]
        if archive is None and settings.MONGODB_EMBEDDED:
            archive = Path(settings.DATA_DIR) / localstack.OPLOG_ARCHIVE_FOLDER
        archive = Path(archive) if archive else None
        own_client = None
        if options["oplog_from"]:
            try:
                own_client = MongoClient(options["oplog_from"], serverSelectionTimeoutMS=5000)
            except PyMongoError as error:
                raise CommandError(f"--oplog-from {options['oplog_from']!r}: {error}") from None
            live_client, live_name = own_client, options["oplog_from"]
        else:
            # pymongo's Database itself (`get_database()` is a query-logging wrapper under DEBUG)
            live_client, live_name = connection.database.client, "the app's database server"
        try:
            if options["check"]:
                plan = plan_recovery(options["source"], moment, archive=archive, live_client=live_client,
                                     live_name=live_name, live_required=bool(options["oplog_from"]))
                if plan.scratch:
                    shutil.rmtree(plan.scratch, ignore_errors=True)
                for note in plan.notes:
                    self.stdout.write(f"note: {note}")
                self.stdout.write(f"point-in-time recovery OK: the backup of {plan.manifest['consistent_as_of']['wall']} "
                                  f"plus {len(plan.entries)} oplog entries of {plan.manifest['database']!r} "
                                  f"reach {plan.reached}")
                return
            summary = recover_database(connection.database, options["source"], moment, archive=archive,
                                       live_client=live_client, live_name=live_name,
                                       live_required=bool(options["oplog_from"]), force=options["force"])
        except PyMongoError as error:
            raise CommandError(f"cannot read the oplog of {live_name}: {error}") from None
        finally:
            if own_client is not None:
                own_client.close()
        for note in summary.notes:
            self.stdout.write(f"note: {note}")
        if summary.missing_documents:
            self.stdout.write(f"warning: {summary.missing_documents} updates found no document to change")
        self.stdout.write(
            f"restored {summary.restored.collections} collections, {summary.restored.documents} documents into "
            f"{connection.settings_dict['NAME']!r} (the backup of {summary.restored.consistent_as_of}), then "
            f"replayed {summary.applied} oplog entries ({summary.transactions} transactions): the database as of "
            f"{summary.reached}")
