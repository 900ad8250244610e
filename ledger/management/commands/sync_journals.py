"""`manage.py sync_journals [--user U]`: bring the automatic journals in line with the transactions,
for U's organization (or every organization with transactions)."""

from django.core.management.base import BaseCommand, CommandError

from accounts.selectors import users_matching
from core.models import Organization
from ledger.transaction_journals import organizations_with_transactions, transaction_journals_sync


class Command(BaseCommand):
    help = ("Create, correct (reverse + re-post) or reverse the automatic journal entries of transactions, "
            "per organization.")

    def add_arguments(self, parser):
        parser.add_argument("--user", help="username, email or id: sync that user's organization "
                                           "(default: every organization with transactions)")

    def handle(self, *args, **options):
        if options["user"]:
            users = users_matching(identifier=options["user"])[:1]
            if not users:
                raise CommandError(f"no user {options['user']!r}")
            user = users[0]
            organization = Organization.objects.filter(pk=user.organization_id).first() \
                if user.organization_id else None
            if organization is None:
                raise CommandError(f"{user.username} belongs to no organization")
            organizations = [organization]
        else:
            organizations = list(organizations_with_transactions())
        failed = 0
        for organization in organizations:
            report = transaction_journals_sync(organization=organization)
            line = (f"{organization.name}: {report.created} created, {report.reversed} reversed, "
                    f"{report.unchanged} unchanged")
            if report.locked:
                line += f", {len(report.locked)} in locked periods left as they are"
            if report.problems:
                line += f", {len(report.problems)} not booked (data problems, listed on /app/ledger/review/)"
            self.stdout.write(line)
            for problem in report.problems:
                self.stderr.write(f"{organization.name}: not booked: {problem}")
            if report.error:
                failed += 1
                self.stderr.write(f"{organization.name}: not synced: {report.error}")
        if failed:
            raise CommandError(f"{failed} organization(s) could not be synced")
