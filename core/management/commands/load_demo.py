"""`manage.py load_demo`: load the demo data (idempotent) and print the demo logins."""

from django.conf import settings
from django.core.management.base import BaseCommand

from core.demo import demo_load, demo_login_lines


class Command(BaseCommand):
    help = "Load demo users, wallets (funded on the local chain) and history. Safe to run again."

    def handle(self, *args, **options):
        report = demo_load()
        created = ", ".join(f"{n} {what}" for what, n in report.created.items()) or "nothing new"
        self.stdout.write(f"demo data: created {created}")
        for reason in report.skipped:
            self.stdout.write(self.style.WARNING(f"skipped {reason}"))
        self.stdout.write(f"demo logins at {settings.SITE_URL}/app/login/ (admin: {settings.SITE_URL}/admin/), "
                          "who is where (organization, then username / password / role):")
        for line in demo_login_lines("  "):
            self.stdout.write(line)
