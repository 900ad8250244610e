"""`manage.py backup TARGET` (or `--output TARGET`): every collection of the app's database, its
indexes and options, consistent as of one moment, verified by a manifest of SHA-256 checksums. TARGET
is a new (or empty) folder, or a file named `*.tar.gz`. See core/backups.py and docs/operations.md."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from core.backups import BackupError, backup_database


class Command(BaseCommand):
    help = "Back up the whole database to a folder or a .tar.gz file (consistent, with checksums)."

    def add_arguments(self, parser):
        parser.add_argument("target", nargs="?", help="a new or empty folder, or a file ending in .tar.gz")
        parser.add_argument("--output", help="the same as TARGET")
        parser.add_argument("--attempts", type=int, default=5,
                            help="copies tried while writers keep changing the database (default 5)")

    def handle(self, *args, **options):
        target = options["output"] or options["target"]
        if not target or (options["output"] and options["target"] and options["output"] != options["target"]):
            raise CommandError("give one target: `backup DIR_OR_FILE.tar.gz` or `backup --output ...`")
        try:
            # `connection.database` is pymongo's Database; `get_database()` is, under DEBUG, a query-logging
            # wrapper without `db[name]` (that made `make run`'s backup fail).
            summary = backup_database(connection.database, target, attempts=max(1, options["attempts"]))
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"backup of {connection.settings_dict['NAME']!r} written to {summary.path}: {summary.collections} "
            f"collections, {summary.documents} documents, {summary.bytes} bytes of BSON, consistent as of "
            f"{summary.consistent_as_of} (copy {summary.attempts})")
