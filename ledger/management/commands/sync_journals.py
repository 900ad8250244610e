"""`manage.py sync_journals [--user U]`: bring the automatic journals in line with the transactions."""

from django.core.management.base import BaseCommand, CommandError

from ledger.transaction_journals import transaction_journals_sync, users_with_transactions


class Command(BaseCommand):
    help = "Create, correct (reverse + re-post) or reverse the automatic journal entries of transactions."

    def add_arguments(self, parser):
        parser.add_argument("--user", help="username or email (default: every user with transactions)")

    def handle(self, *args, **options):
        from accounts.selectors import users_matching

        if options["user"]:
            users = users_matching(identifier=options["user"])[:1]
            if not users:
                raise CommandError(f"no user {options['user']!r}")
        else:
            users = list(users_with_transactions())
        failed = 0
        for user in users:
            report = transaction_journals_sync(user=user)
            line = (f"{user.username}: {report.created} created, {report.reversed} reversed, "
                    f"{report.unchanged} unchanged")
            if report.locked:
                line += f", {len(report.locked)} in locked periods left as they are"
            self.stdout.write(line)
            if report.error:
                failed += 1
                self.stderr.write(f"{user.username}: not synced: {report.error}")
        if failed:
            raise CommandError(f"{failed} user(s) could not be synced")
