"""`manage.py transfer_fee_bump <transfer id>`: the way out of a STUCK send. Signs the same intent
again with the same nonce and a higher fee (wallets.transfers.transfer_fee_bump); only one of the two
signatures can ever be mined."""

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from wallets.models import OutgoingTransfer
from wallets.transfers import transfer_fee_bump


class Command(BaseCommand):
    help = "Re-sign a stuck send (same nonce, same payment) with a higher fee and broadcast it."

    def add_arguments(self, parser):
        parser.add_argument("transfer_id")

    def handle(self, *args, **options):
        try:
            transfer = OutgoingTransfer.objects.filter(pk=options["transfer_id"]).first()
        except Exception:  # not an ObjectId
            transfer = None
        if transfer is None:
            raise CommandError("No such transfer.")
        try:
            transfer = transfer_fee_bump(transfer=transfer)
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"nonce {transfer.nonce}: now {transfer.tx_hash} ({transfer.status}), "
                          f"max fee {transfer.max_fee_per_gas} wei; replaced {', '.join(transfer.replaced_hashes)}")
