"""Reads for wallets."""

from django.db.models import QuerySet

from wallets.models import Wallet


def wallet_list_for(user) -> QuerySet[Wallet]:
    return Wallet.objects.filter(user=user).order_by("slot", "id")
