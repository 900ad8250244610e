"""`manage.py export_transactions --user U --format universal [--output FILE]` (Koinly universal CSV):
the transactions U may see in U's organization, values in its reporting fiat."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.selectors import users_matching
from wallets.imports import transactions_export_universal


class Command(BaseCommand):
    help = "Export a user's transactions as a Koinly universal CSV."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True)
        parser.add_argument("--format", required=True, choices=["universal"])
        parser.add_argument("--output", default="", help="file to write (default: stdout)")

    def handle(self, *args, **options):
        user = next(iter(users_matching(identifier=options["user"])), None)
        if user is None:
            raise CommandError(f"no user {options['user']!r}")
        text = transactions_export_universal(user=user)
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")
