"""Wallets, the assets they hold (ETH and tracked ERC-20 tokens) and their transactions.

Amounts are exact Decimals (Decimal128 in MongoDB): token quantities in the token's own decimals,
fiat values in the organization's reporting fiat.

Wallets, transactions, outgoing transfers and price alerts belong to an organization
(core.tenancy.OrganizationOwned); their `user` is the member who made or owns them. Cryptocurrencies
are chain facts shared by every organization. A price quote is shared market data (no organization)
or one organization's own (entered by hand or imported).
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q

from core import permissions
from core.money import FIAT_AMOUNT, TOKEN_AMOUNT
from core.tenancy import OrganizationOwned, OrganizationQuerySet
from core.time_indexed import TimeIndexed, TimeIndexedQuerySet
from wallets.networks import default_network_name

# Decimal128 holds 34 significant digits: 16 integer digits + 18 decimals covers every ERC-20 amount
# we track; fiat keeps 8 decimals inside and is rounded only when printed (core.money).


class Cryptocurrency(models.Model):
    name = models.CharField(max_length=100)
    symbol = models.CharField(max_length=20, unique=True)
    # Empty for the chain's native coin (ETH); the ERC-20 contract for tokens.
    contract_address = models.CharField(max_length=42, blank=True, default="")
    decimals = models.PositiveSmallIntegerField(default=18)
    network = models.CharField(max_length=32, default="ethereum")
    # The price API's id for this asset (CoinGecko: "ethereum"); empty: prices come from the local store.
    price_api_id = models.CharField(max_length=100, blank=True, default="")
    current_price = models.DecimalField(null=True, blank=True, **FIAT_AMOUNT)
    market_cap = models.DecimalField(null=True, blank=True, **FIAT_AMOUNT)
    volume_24h = models.DecimalField(null=True, blank=True, **FIAT_AMOUNT)
    price_change_24h = models.DecimalField(null=True, blank=True, **FIAT_AMOUNT)
    last_updated = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "cryptocurrencies"
        verbose_name_plural = "cryptocurrencies"
        indexes = [models.Index(fields=["symbol"], name="crypto_symbol_idx")]

    def __str__(self) -> str:
        return self.symbol

    @classmethod
    def native_of(cls, network) -> "Cryptocurrency":
        """The native coin of `network` (a wallets.networks.Network): the tracked coin of its symbol
        without a contract (ETH on ethereum, POL on polygon, BNB on bsc), made on first use for a
        network other than ethereum (a chain fact, like the tokens; its price comes from the price
        sources). On ethereum None when ETH is not tracked (nothing native is recorded then)."""
        coin = cls.objects.filter(symbol=network.native_asset, contract_address="").first()
        if coin is None and network.name != "ethereum":
            coin, _ = cls.objects.get_or_create(
                symbol=network.native_asset,
                defaults={"name": network.label or network.name.title(), "contract_address": "", "decimals": 18,
                          "network": network.name})
        return coin


class WalletType(models.TextChoices):
    PRIVATE_KEY = "Private Key", "Private Key"
    METAMASK = "MetaMask", "MetaMask"
    HARDWARE = "Hardware", "Hardware"


class Wallet(OrganizationOwned):
    name = models.CharField(max_length=100)
    # EIP-55 checksum form; unique per organization and network (two organizations may watch the same
    # address; one key may be a wallet on ethereum and on polygon).
    address = models.CharField(max_length=42)
    # The network's name in wallets.networks: the node it is monitored on, sends from it are signed for.
    network = models.CharField(max_length=40, default=default_network_name)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wallets")
    wallet_type = models.CharField(max_length=20, choices=WalletType.choices)
    # AES-256-GCM envelope (wallets.keystore); empty for watch-only wallets. Never serialised.
    encrypted_private_key = models.TextField(blank=True, default="", editable=False)
    is_active = models.BooleanField(default=True)
    balance = models.DecimalField(default=0, **TOKEN_AMOUNT)
    last_authenticated = models.DateTimeField(null=True, blank=True)
    monitoring_enabled = models.BooleanField(default=False)
    monitor_from_block = models.BigIntegerField(null=True, blank=True)
    # Which of the owner's max_wallets slots (in this organization) this wallet takes: a unique
    # (organization, user, slot) makes the wallet limit hold even when two creates race.
    slot = models.PositiveSmallIntegerField(default=0)
    # EIP-191 ownership challenge for watch-only wallets (single use, expires).
    ownership_nonce = models.CharField(max_length=64, blank=True, default="", editable=False)
    ownership_nonce_expires = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "wallets"
        indexes = [
            models.Index(fields=["address"], name="wallets_address_idx"),
            models.Index(fields=["organization", "user"], name="wallets_org_user_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["organization", "network", "address"],
                                    name="wallets_org_network_address_unique"),
            models.UniqueConstraint(fields=["organization", "user", "slot"], name="wallets_org_user_slot_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.address})"

    @property
    def has_private_key(self) -> bool:
        return bool(self.encrypted_private_key)


class TransactionType(models.TextChoices):
    BUY = "BUY", "Buy"
    SELL = "SELL", "Sell"
    TRANSFER = "TRANSFER", "Transfer"
    INCOME = "INCOME", "Income"
    EXPENSE = "EXPENSE", "Expense"


class TransactionStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    CONFIRMED = "CONFIRMED", "Confirmed"
    FAILED = "FAILED", "Failed"


class TransactionSource(models.TextChoices):
    """Where a transaction row came from."""

    CHAIN = "chain", "Chain"
    IMPORT = "import", "Import"
    MANUAL = "manual", "Manual"
    DEMO = "demo", "Demo"


class TransferDirection(models.TextChoices):
    """A transfer into or out of the owner's holdings (empty: not a transfer, or known by addresses)."""

    IN = "in", "In"
    OUT = "out", "Out"


class Transaction(TimeIndexed, OrganizationOwned):
    # Rows per organization and day, for the list's first-page window (core.time_indexed).
    time_index_scope, time_index_field = "transactions", "transaction_date"
    objects = TimeIndexedQuerySet.as_manager()

    transaction_type = models.CharField(max_length=16, choices=TransactionType.choices)
    # The owner. Rows imported from an exchange export belong to a user without being in a wallet.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                             related_name="transactions")
    wallet = models.ForeignKey(Wallet, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions")
    # The wallet's network (set on save from the wallet; the default network for rows without one).
    network = models.CharField(max_length=40, default=default_network_name)
    cryptocurrency = models.ForeignKey(Cryptocurrency, on_delete=models.PROTECT, related_name="transactions")
    amount = models.DecimalField(**TOKEN_AMOUNT)
    price_at_transaction = models.DecimalField(null=True, blank=True, **FIAT_AMOUNT)
    transaction_date = models.DateTimeField()
    description = models.TextField(blank=True, default="")
    fee = models.DecimalField(default=0, **TOKEN_AMOUNT)
    hash = models.CharField(max_length=66, blank=True, default="")
    log_index = models.IntegerField(null=True, blank=True)
    from_address = models.CharField(max_length=42, blank=True, default="")
    to_address = models.CharField(max_length=42, blank=True, default="")
    # For transfers: in or out of the owner's holdings (imported rows have no addresses).
    direction = models.CharField(max_length=3, blank=True, default="", choices=TransferDirection.choices)
    gas_fee = models.DecimalField(null=True, blank=True, **TOKEN_AMOUNT)
    gas_price = models.DecimalField(null=True, blank=True, **TOKEN_AMOUNT)
    gas_used = models.BigIntegerField(null=True, blank=True)
    block_number = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=TransactionStatus.choices, default=TransactionStatus.CONFIRMED)
    # AI classification
    ai_category = models.CharField(max_length=64, blank=True, default="")
    ai_subcategory = models.CharField(max_length=64, blank=True, default="")
    ai_confidence = models.DecimalField(null=True, blank=True, max_digits=5, decimal_places=4)
    ai_description = models.TextField(blank=True, default="")
    is_classified = models.BooleanField(default=False)
    # Business fields
    business_purpose = models.CharField(max_length=200, blank=True, default="")
    tax_category = models.CharField(max_length=64, blank=True, default="")
    is_business_expense = models.BooleanField(null=True, blank=True)
    # Exchange-rate data
    eth_usd_rate = models.DecimalField(null=True, blank=True, **FIAT_AMOUNT)
    usd_value = models.DecimalField(null=True, blank=True, **FIAT_AMOUNT)
    total_cost_usd = models.DecimalField(null=True, blank=True, **FIAT_AMOUNT)
    rate_timestamp = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=TransactionSource.choices, default=TransactionSource.MANUAL)
    # Identity of the row, unique per organization (e.g. chain:<hash>:<log index>:<wallet address> or
    # demo:<n>): makes every import and monitor pass idempotent.
    external_id = models.CharField(max_length=200, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "transactions"
        ordering = ["-transaction_date"]
        indexes = [
            models.Index(fields=["organization", "-transaction_date"], name="tx_org_date_idx"),
            # A platform superuser's admin list, every organization newest first (core.admin_base).
            models.Index(fields=["-transaction_date"], name="tx_date_idx"),
            models.Index(fields=["organization", "user", "-transaction_date"], name="tx_org_user_date_idx"),
            models.Index(fields=["organization", "wallet"], name="tx_org_wallet_idx"),
            models.Index(fields=["organization", "network", "-transaction_date"], name="tx_org_network_date_idx"),
            models.Index(fields=["organization", "external_id"], name="tx_org_external_id_idx"),
            models.Index(fields=["hash"], name="tx_hash_idx"),
            # The dashboard's "to classify": a capped window of the organization's unclassified rows.
            models.Index(fields=["organization", "is_classified"], name="tx_org_classified_idx"),
        ]
        constraints = [models.UniqueConstraint(fields=["organization", "external_id"],
                                               name="tx_org_external_id_unique")]

    def __str__(self) -> str:
        return f"{self.transaction_type} {self.amount} {self.cryptocurrency_id}"

    def __init__(self, *args, **kwargs):
        # A transaction's network is its wallet's: taken from the wallet object it is built with, so
        # rows written by bulk_create (imports, demo data) carry it too; `save` reads it for a row
        # given only a wallet id.
        super().__init__(*args, **kwargs)
        wallet = kwargs.get("wallet")
        if wallet is not None and "network" not in kwargs:
            self.network = wallet.network

    def save(self, *args, **kwargs):
        # A row in a wallet belongs to the wallet's owner and organization; a row without one to its
        # user's organization.
        cached = self._state.fields_cache.get("wallet")
        if cached is not None and cached.pk == self.wallet_id:
            self.network = cached.network
        if self.wallet_id is not None and (self.user_id is None or self.organization_id is None
                                           or (self._state.adding and cached is None)):
            owner = Wallet.objects.filter(pk=self.wallet_id).only("user_id", "organization_id", "network").first()
            if owner is not None:
                self.user_id = self.user_id or owner.user_id
                self.organization_id = self.organization_id or owner.organization_id
                self.network = owner.network
        if self.organization_id is None and self.user_id is not None:
            member = get_user_model().objects.filter(pk=self.user_id).only("organization_id").first()
            self.organization_id = member.organization_id if member is not None else None
        super().save(*args, **kwargs)


class TransferStatus(models.TextChoices):
    PREPARED = "PREPARED", "Signed, not yet broadcast"
    BROADCAST = "BROADCAST", "Broadcast"
    # The node has it but no block included it for TRANSFER_STUCK_AFTER_SECONDS: bump its fee
    # (same nonce, so only one of the two can ever be mined): `manage.py transfer_fee_bump <id>`.
    STUCK = "STUCK", "Stuck (waiting too long)"
    CONFIRMED = "CONFIRMED", "Confirmed"
    FAILED = "FAILED", "Failed"


# Still to be settled by the chain (the monitor and the reconciler look at these).
OPEN_TRANSFER_STATUSES = (TransferStatus.PREPARED, TransferStatus.BROADCAST, TransferStatus.STUCK)


class TransferKind(models.TextChoices):
    PAYMENT = "payment", "Payment"
    # A 0-ETH send to itself that fills a nonce no stored intent holds (so later sends can be mined).
    NONCE_FILLER = "nonce_filler", "Nonce filler"
    # A write call to a smart contract (ai_audit.contracts): `to_address` is the contract, `amount`
    # the native coin sent with it, `call_data` the ABI-encoded call.
    CONTRACT_CALL = "contract_call", "Contract call"


class OutgoingTransfer(OrganizationOwned):
    """An on-chain send, persisted with its nonce and signed raw transaction BEFORE broadcast: a retry
    (same Idempotency-Key) rebroadcasts these exact bytes and never signs again, so a payment happens
    once even if the process dies between signing and broadcasting. Its organization is the wallet's;
    `user` is the member who asked for the send.

    The nonce is reserved by inserting this record: `nonce_key` ("<chain id>:<address>:<nonce>") is
    unique, so the reservation and the record are one write, and a crash before it reserves
    nothing. It is cleared only when the node definitely refused the bytes (the nonce is free again)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="transfers")
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="outgoing_transfers")
    cryptocurrency = models.ForeignKey(Cryptocurrency, on_delete=models.PROTECT, related_name="+")
    to_address = models.CharField(max_length=42)
    amount = models.DecimalField(**TOKEN_AMOUNT)
    # "<user id>:<Idempotency-Key>": unique, so two racing requests with one key create one transfer.
    idempotency_key = models.CharField(max_length=300, unique=True)
    request_fingerprint = models.CharField(max_length=64)
    chain_id = models.BigIntegerField()
    nonce = models.BigIntegerField()
    gas_limit = models.BigIntegerField()
    max_fee_per_gas = models.DecimalField(max_digits=34, decimal_places=0)
    max_priority_fee_per_gas = models.DecimalField(max_digits=34, decimal_places=0)
    signed_raw_transaction = models.TextField(editable=False)
    tx_hash = models.CharField(max_length=66, unique=True)
    status = models.CharField(max_length=16, choices=TransferStatus.choices, default=TransferStatus.PREPARED)
    kind = models.CharField(max_length=16, choices=TransferKind.choices, default=TransferKind.PAYMENT)
    # "<chain id>:<address>": every transfer signed by one key on one chain (whatever organization).
    sender = models.CharField(max_length=100, default="")
    nonce_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    # Hashes of earlier signatures of this same intent (same nonce) that a fee bump replaced.
    replaced_hashes = models.JSONField(default=list, blank=True)
    broadcast_at = models.DateTimeField(null=True, blank=True)
    block_number = models.BigIntegerField(null=True, blank=True)
    fee = models.DecimalField(null=True, blank=True, **TOKEN_AMOUNT)  # ETH actually paid for gas
    error = models.TextField(blank=True, default="")
    transaction = models.ForeignKey(Transaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Contract calls (kind CONTRACT_CALL): the call data (0x hex) and the function's signature;
    # payments leave them empty. Every send: the network's name (wallets.networks) of `chain_id`.
    call_data = models.TextField(blank=True, default="")
    call_function = models.CharField(max_length=300, blank=True, default="")
    network = models.CharField(max_length=40, blank=True, default=default_network_name)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "outgoing_transfers"
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="transfers_org_created_idx"),
            models.Index(fields=["idempotency_key"], name="transfers_idem_idx"),
            models.Index(fields=["tx_hash"], name="transfers_hash_idx"),
            models.Index(fields=["sender", "nonce"], name="transfers_sender_nonce_idx"),
            models.Index(fields=["nonce_key"], name="transfers_nonce_key_idx"),
            models.Index(fields=["status"], name="transfers_status_idx"),
        ]


class ChainCheckpoint(models.Model):
    """How far the wallet monitor has scanned (advanced by compare-and-set)."""

    key = models.CharField(max_length=100, unique=True)  # "monitor:<chain id>", one per network
    last_block = models.BigIntegerField(default=-1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "chain_checkpoints"
        indexes = [models.Index(fields=["key"], name="chain_checkpoints_key_idx")]


class PriceQuoteQuerySet(OrganizationQuerySet):
    """An organization reaches the shared quotes (market data) and its own."""

    def for_organization(self, organization_id):
        if organization_id is None:
            return self.filter(organization__isnull=True)
        return self.filter(Q(organization__isnull=True) | Q(organization_id=organization_id))

    def for_actor(self, actor):
        if not permissions.can_use_backoffice(actor):
            return self.none()
        return self.for_organization(actor.organization_id)


class PriceSource(models.TextChoices):
    """Where a price quote came from. The price API and the demo's market data are shared; the
    others an organization makes itself (ORGANIZATION_PRICE_SOURCES)."""

    COINGECKO = "coingecko", "Price API"
    DEMO = "demo", "Demo market data"
    MANUAL = "manual", "Entered by hand"
    IMPORT = "import", "Imported (CSV)"
    TRADE = "trade", "Taken from a transaction"


# Sources of quotes an organization makes itself (they need one); the others are shared market data.
ORGANIZATION_PRICE_SOURCES = (PriceSource.MANUAL, PriceSource.IMPORT, PriceSource.TRADE)


class PriceQuote(models.Model):
    """A price of one asset in a fiat currency: the latest (`day` empty) or a daily close, from one
    of the PriceSource sources.

    `organization` empty: shared market data every organization sees. Set: that organization's own
    quote (manual, import), seen only by it; on the same day its own quote wins over a shared one."""

    organization = models.ForeignKey("core.Organization", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    symbol = models.CharField(max_length=20)
    fiat = models.CharField(max_length=3, default="USD")
    day = models.DateField(null=True, blank=True)
    price = models.DecimalField(**FIAT_AMOUNT)
    source = models.CharField(max_length=16, choices=PriceSource.choices, default=PriceSource.MANUAL)
    fetched_at = models.DateTimeField(auto_now=True)

    objects = models.Manager.from_queryset(PriceQuoteQuerySet)()

    class Meta:
        db_table = "price_quotes"
        # The backend's unique indexes skip documents with a null field, so this holds for an
        # organization's daily quotes; shared and latest quotes are kept single by
        # wallets.prices.price_record (update_or_create, from tasks that run one at a time).
        constraints = [models.UniqueConstraint(fields=["organization", "symbol", "fiat", "day", "source"],
                                               name="price_quotes_org_unique")]
        indexes = [models.Index(fields=["symbol", "fiat"], name="price_quotes_symbol_idx"),
                   models.Index(fields=["organization", "symbol", "fiat"], name="price_quotes_org_symbol_idx")]

    def __str__(self) -> str:
        return f"{self.symbol}/{self.fiat} {self.price} ({self.day or 'latest'}, {self.source})"


class AlertDirection(models.TextChoices):
    ABOVE = "above", "Price at or above"
    BELOW = "below", "Price at or below"


class PriceAlert(OrganizationOwned):
    """Notify the owner once when an asset's price crosses a threshold. `triggered_at` set means it
    has fired; it fires again only after being re-armed (triggered_at cleared)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="price_alerts")
    symbol = models.CharField(max_length=20)
    direction = models.CharField(max_length=5, choices=AlertDirection.choices)
    threshold = models.DecimalField(**FIAT_AMOUNT)
    fiat = models.CharField(max_length=3, default="USD")
    is_active = models.BooleanField(default=True)
    triggered_at = models.DateTimeField(null=True, blank=True)
    # The price seen by the last check (the crossing price once fired).
    last_price = models.DecimalField(null=True, blank=True, **FIAT_AMOUNT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "price_alerts"
        indexes = [models.Index(fields=["is_active", "triggered_at"], name="price_alerts_armed_idx"),
                   models.Index(fields=["organization", "user"], name="price_alerts_org_user_idx")]

    def __str__(self) -> str:
        return f"{self.symbol} {self.direction} {self.threshold} {self.fiat}"
