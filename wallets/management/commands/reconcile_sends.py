"""`manage.py reconcile_sends`: compare every stored send with the node once (what `runstack` does at
start-up and the task queue every minute): see wallets.reconciler."""

from django.core.management.base import BaseCommand

from wallets.reconciler import sends_reconcile


class Command(BaseCommand):
    help = "Rebroadcast lost sends, settle mined ones, fill nonce gaps, mark stuck ones."

    def handle(self, *args, **options):
        report = sends_reconcile()
        self.stdout.write(" ".join(f"{key}={value}" for key, value in report.as_dict().items() if key != "notes"))
        for note in report.notes:
            self.stdout.write(f"  {note}")
