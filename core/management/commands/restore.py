"""`manage.py restore SOURCE [--force]`: put a backup made by `manage.py backup` into the app's
database. The manifest and every file are verified first (checksums, sizes, document counts); a
corrupted backup is refused and nothing is written. A database that holds any document is refused
unless `--force`, which drops every collection first. See core/backups.py and docs/operations.md."""

import shutil

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from core.backups import BackupError, read_backup, restore_database


class Command(BaseCommand):
    help = "Restore a backup (folder or .tar.gz) into the database; refuses a non-empty one without --force."

    def add_arguments(self, parser):
        parser.add_argument("source", help="a backup folder or .tar.gz file made by `manage.py backup`")
        parser.add_argument("--force", action="store_true",
                            help="drop every collection of a non-empty database, then restore")
        parser.add_argument("--check", action="store_true", help="only verify the backup; write nothing")

    def handle(self, *args, **options):
        try:
            if options["check"]:
                manifest, _, scratch = read_backup(options["source"])
                if scratch:
                    shutil.rmtree(scratch, ignore_errors=True)
                documents = sum(c["documents"] for c in manifest["collections"].values())
                self.stdout.write(f"backup OK: {len(manifest['collections'])} collections, {documents} documents, "
                                  f"consistent as of {manifest['consistent_as_of']['wall']}")
                return
            summary = restore_database(connection.get_database(), options["source"], force=options["force"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"restored {summary.collections} collections, {summary.documents} documents into "
            f"{connection.settings_dict['NAME']!r} (the database as of {summary.consistent_as_of})")
