"""Admin for wallets, cryptocurrencies and transactions. A wallet's encrypted private key is never
shown, searched or exported here."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from core.admin_base import BackofficeModelAdmin

from wallets.models import Cryptocurrency, Transaction, Wallet


@admin.register(Cryptocurrency)
class CryptocurrencyAdmin(BackofficeModelAdmin):
    list_display = ("symbol", "name", "contract_address", "decimals", "current_price", "is_active")
    list_filter = ("is_active", "network")
    search_fields = ("symbol", "name", "contract_address")


@admin.register(Wallet)
class WalletAdmin(BackofficeModelAdmin):
    list_display = ("name", "address", "user", "wallet_type", "balance", "monitoring_enabled", "is_active",
                    "transactions_link")
    list_filter = ("wallet_type", "monitoring_enabled", "is_active")
    search_fields = ("name", "address")
    raw_id_fields = ("user",)
    fields = ("name", "address", "user", "wallet_type", "is_active", "balance", "monitoring_enabled",
              "last_authenticated", "has_private_key", "created_at", "updated_at")
    readonly_fields = ("address", "balance", "last_authenticated", "has_private_key", "created_at", "updated_at")

    @admin.display(boolean=True, description="Key held")
    def has_private_key(self, obj):
        return obj.has_private_key

    @admin.display(description="Transactions")
    def transactions_link(self, obj):
        url = reverse("admin:wallets_transaction_changelist") + f"?wallet__id__exact={obj.pk}"
        return format_html('<a href="{}">view</a>', url)


@admin.register(Transaction)
class TransactionAdmin(BackofficeModelAdmin):
    list_display = ("transaction_date", "transaction_type", "wallet", "cryptocurrency", "amount", "usd_value",
                    "status", "source")
    list_filter = ("transaction_type", "status", "source", "cryptocurrency")
    search_fields = ("hash", "description", "from_address", "to_address")
    raw_id_fields = ("wallet",)
    ordering = ("-transaction_date",)
    date_hierarchy = None
