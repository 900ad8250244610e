"""`manage.py import_transactions --user U --format universal FILE [--wallet ADDRESS]`.

Imports a Koinly universal CSV into U's organization, as U's rows: all rows or none. Each bad row is printed with its row number,
column and reason (exit code 1); duplicates (a TxHash already imported or given by an earlier row, a row
already imported from this file) are skipped and counted, and every row not imported is listed after
the summary line as `row N skipped: reason`. Two identical rows without a TxHash in one file are two
transactions; importing the same file again adds nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.selectors import users_matching
from wallets.imports import ImportRejected, transactions_import_universal
from wallets.models import Wallet


class Command(BaseCommand):
    help = "Import transactions from a Koinly universal CSV file."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--user", required=True, help="username or email of the owner")
        parser.add_argument("--format", required=True, choices=["universal"])
        parser.add_argument("--wallet", default="", help="address of one of the user's wallets (optional)")

    def handle(self, *args, **options):
        user = next(iter(users_matching(identifier=options["user"])), None)
        if user is None:
            raise CommandError(f"no user {options['user']!r}")
        wallet = None
        if options["wallet"]:
            # One of U's own wallets in U's organization (the imported rows are U's).
            wallet = Wallet.objects.for_actor(user).filter(user=user, address__iexact=options["wallet"]).first()
            if wallet is None:
                raise CommandError(f"{options['user']} has no wallet {options['wallet']}")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text (byte {exc.start}: {exc.object[exc.start:exc.start + 1]!r}); "
                               "save it as UTF-8 and try again") from None
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        try:
            report = transactions_import_universal(user=user, text=text, wallet=wallet)
        except ImportRejected as exc:
            for error in exc.errors:
                self.stderr.write(f"row {error.row}, {error.column}: {error.reason}")
            raise CommandError(f"{len(exc.errors)} problem(s); nothing was imported") from None
        self.stdout.write(
            f"imported {report.created} transaction(s) from {report.rows_read} row(s); "
            f"{report.duplicates_skipped} duplicate(s) skipped; {report.ignored_fiat_only} fiat-only row(s) ignored"
            + (f"; new assets: {', '.join(report.assets_created)}" if report.assets_created else "")
        )
        for item in report.skipped:
            self.stdout.write(f"row {item['row']} skipped: {item['reason']}")
