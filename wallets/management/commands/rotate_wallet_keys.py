"""`manage.py rotate_wallet_keys`: re-wrap every wallet's data key with the current master key.

Set the new key as KEY_ENCRYPTION_KEY / KEY_ENCRYPTION_KEY_ID and list the old one in
KEY_ENCRYPTION_KEYS_RETIRED ("id:base64key"), run this, then drop the retired key."""

from django.core.management.base import BaseCommand

from wallets.services import wallet_keys_rotate


class Command(BaseCommand):
    help = "Re-wrap all wallet private-key envelopes with the current key-encryption key."

    def handle(self, *args, **options):
        rotated, current = wallet_keys_rotate()
        self.stdout.write(f"re-wrapped {rotated} key(s); {current} already used the current key")
