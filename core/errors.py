"""The domain's errors: what went wrong, in the domain's words, with no HTTP in sight.

Services, selectors and tasks raise one of the kinds below with a code from `ErrorCode` and a
sentence a person can act on:

    raise Conflict(ErrorCode.PERIOD_LOCKED, "The books are locked up to 2026-03-31.", {"lock_date": ...})

The JSON API maps the kind to a status in one handler (`core.jsonapi.errors`); HTMX views and admin
actions show `error.message` as they are. Pure engines (no Django) keep their own small exception
types; the service that calls an engine turns its error into one of these.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Every machine-readable error code the product emits, in one place. Clients match on these
    strings; renaming one is an API change."""

    # generic
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    VALIDATION_ERROR = "validation_error"
    NOT_AUTHENTICATED = "not_authenticated"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    RATE_LIMITED = "rate_limited"
    CONFLICT = "conflict"
    # identity and sessions
    INVALID_CREDENTIALS = "invalid_credentials"
    INVALID_REFRESH_TOKEN = "invalid_refresh_token"
    REFRESH_TOKEN_REUSED = "refresh_token_reused"
    SESSION_NOT_APPROVED = "session_not_approved"
    INVALID_TOKEN = "invalid_token"
    TOKEN_EXPIRED = "token_expired"
    WRONG_PASSWORD = "wrong_password"
    EMAIL_NOT_VERIFIED = "email_not_verified"
    EMPLOYEE_NOT_VERIFIED = "employee_not_verified"
    ACCOUNT_INACTIVE = "account_inactive"
    ACCOUNT_LOCKED = "account_locked"
    ALREADY_REGISTERED = "already_registered"
    # organizations and team
    ORGANIZATION_REQUIRED = "organization_required"
    ALREADY_MEMBER = "already_member"
    CANNOT_CHANGE_SELF = "cannot_change_self"
    LAST_ADMIN = "last_admin"
    NOTHING_TO_LEAVE = "nothing_to_leave"
    INVITATION_EXPIRED = "invitation_expired"
    INVITATION_NOT_PENDING = "invitation_not_pending"
    REPORTING_FIAT_LOCKED = "reporting_fiat_locked"
    INVALID_CURRENCY = "invalid_currency"
    INVALID_METHOD = "invalid_method"
    INVALID_LOT_SCOPE = "invalid_lot_scope"
    # wallets, chain and prices
    INVALID_ADDRESS = "invalid_address"
    BAD_CHECKSUM = "bad_checksum"
    ADDRESS_TAKEN = "address_taken"
    ADDRESS_MISMATCH = "address_mismatch"
    INVALID_PRIVATE_KEY = "invalid_private_key"
    INVALID_SIGNATURE = "invalid_signature"
    WRONG_SIGNER = "wrong_signer"
    NO_CHALLENGE = "no_challenge"
    WALLET_LIMIT_REACHED = "wallet_limit_reached"
    WALLET_HAS_TRANSACTIONS = "wallet_has_transactions"
    WATCH_ONLY_WALLET = "watch_only_wallet"
    CHAIN_UNAVAILABLE = "chain_unavailable"
    CHAIN_TRANSACTION = "chain_transaction"
    BROADCAST_REJECTED = "broadcast_rejected"
    ESTIMATE_FAILED = "estimate_failed"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    IDEMPOTENCY_KEY_REQUIRED = "idempotency_key_required"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    INVALID_TRANSACTION_HASH = "invalid_transaction_hash"
    INVALID_AMOUNT = "invalid_amount"
    INVALID_SYMBOL = "invalid_symbol"
    INVALID_KIND = "invalid_kind"
    INVALID_DATE = "invalid_date"
    INVALID_DESCRIPTION = "invalid_description"
    INVALID_ENCODING = "invalid_encoding"
    INVALID_ROWS = "invalid_rows"
    IMMUTABLE_FIELDS = "immutable_fields"
    UNKNOWN_ASSET = "unknown_asset"
    UNKNOWN_TRANSACTION = "unknown_transaction"
    ALERT_LIMIT_REACHED = "alert_limit_reached"
    INVALID_PRICE = "invalid_price"
    NO_PRICE = "no_price"
    PRICE_API_UNAVAILABLE = "price_api_unavailable"
    TOO_MANY_COMPARISONS = "too_many_comparisons"
    # ledger
    ACCOUNT_CODE_TAKEN = "account_code_taken"
    ACCOUNT_HAS_CHILDREN = "account_has_children"
    ACCOUNT_HAS_POSTINGS = "account_has_postings"
    ACCOUNT_IN_DRAFT_ENTRIES = "account_in_draft_entries"
    ACCOUNT_IN_USE = "account_in_use"
    INVALID_ACCOUNT_CODE = "invalid_account_code"
    INVALID_ACCOUNT_NAME = "invalid_account_name"
    INVALID_ACCOUNT_TYPE = "invalid_account_type"
    INACTIVE_ACCOUNT = "inactive_account"
    UNKNOWN_ACCOUNT = "unknown_account"
    UNKNOWN_PARENT = "unknown_parent"
    PARENT_CYCLE = "parent_cycle"
    PARENT_TYPE_MISMATCH = "parent_type_mismatch"
    PARENT_CURRENCY_MISMATCH = "parent_currency_mismatch"
    CURRENCY_MISMATCH = "currency_mismatch"
    DUPLICATE_SOURCE_KEY = "duplicate_source_key"
    ENTRY_ALREADY_REVERSED = "entry_already_reversed"
    ENTRY_IS_REVERSAL = "entry_is_reversal"
    ENTRY_NOT_DRAFT = "entry_not_draft"
    ENTRY_NOT_POSTED = "entry_not_posted"
    PERIOD_LOCKED = "period_locked"
    # reporting
    INVALID_PERIOD = "invalid_period"
    INVALID_RANGE = "invalid_range"
    RANGE_TOO_LONG = "range_too_long"
    REPORT_NOT_READY = "report_not_ready"
    COST_BASIS_FAILED = "cost_basis_failed"
    # invoicing
    INVALID_TRANSITION = "invalid_transition"
    INVOICE_NOT_DRAFT = "invoice_not_draft"
    UNKNOWN_TEMPLATE = "unknown_template"
    INVALID_ITEMS = "invalid_items"
    UNKNOWN_WALLET = "unknown_wallet"
    CLIENT_EMAIL_REQUIRED = "client_email_required"
    NOTHING_TO_CREDIT = "nothing_to_credit"
    INVOICE_NOT_OPEN = "invoice_not_open"
    MAIL_UNAVAILABLE = "mail_unavailable"
    QUOTE_NOT_EXPIRED = "quote_not_expired"
    NO_CRYPTO_TERMS = "no_crypto_terms"
    # jsonapi
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    NESTING_TOO_DEEP = "nesting_too_deep"
    NUMBER_OUT_OF_RANGE = "number_out_of_range"
    MALFORMED_JSON = "malformed_json"
    # accounts
    INVALID_ACTION_URL = "invalid_action_url"
    INVALID_METADATA = "invalid_metadata"
    # wallets
    ZERO_ADDRESS = "zero_address"
    SEND_BUSY = "send_busy"
    TRANSFER_NOT_OPEN = "transfer_not_open"
    # books
    TRANSACTION_NOT_VALUED = "transaction_not_valued"
    # payroll
    NO_WITHHOLDING_TABLE = "no_withholding_table"
    INVALID_WITHHOLDING_TABLE = "invalid_withholding_table"
    WITHHOLDING_TABLE_EXISTS = "withholding_table_exists"
    PERIOD_ID_TAKEN = "period_id_taken"
    PAYROLL_PERIOD_NOT_DRAFT = "payroll_period_not_draft"
    PAYROLL_PERIOD_CLOSED = "payroll_period_closed"
    PAYSLIP_NOT_DRAFT = "payslip_not_draft"
    PAYSLIP_NOT_APPROVED = "payslip_not_approved"
    PAYSLIP_ALREADY_PAID = "payslip_already_paid"
    PAYSLIP_EXISTS = "payslip_exists"
    OWN_PAYSLIP = "own_payslip"
    CRYPTO_PAYOUT_UNAVAILABLE = "crypto_payout_unavailable"
    NO_APPROVED_PAYSLIPS = "no_approved_payslips"
    NEGATIVE_NET_PAY = "negative_net_pay"
    OVERTIME_RATE_REQUIRED = "overtime_rate_required"
    NOT_EMPLOYED_IN_PERIOD = "not_employed_in_period"
    NO_PAY_PROFILE = "no_pay_profile"
    EMPLOYEE_WALLET_MISSING = "employee_wallet_missing"
    PAYMENT_REFERENCE_REQUIRED = "payment_reference_required"
    INVALID_FREQUENCY = "invalid_frequency"
    INVALID_RATE = "invalid_rate"
    INVALID_DECIMALS = "invalid_decimals"
    DATE_OUT_OF_RANGE = "date_out_of_range"
    INVALID_OCCURRENCE = "invalid_occurrence"
    PAYOUT_WALLET_REQUIRED = "payout_wallet_required"
    PAYOUT_IN_FLIGHT = "payout_in_flight"
    # contracts
    COMPILER_UNAVAILABLE = "compiler_unavailable"
    UNSUPPORTED_COMPILER = "unsupported_compiler"
    COMPILATION_FAILED = "compilation_failed"
    CONTRACT_NOT_DEPLOYED = "contract_not_deployed"
    CONTRACT_EXISTS = "contract_exists"
    UNKNOWN_NETWORK = "unknown_network"
    WRONG_CHAIN = "wrong_chain"
    AMBIGUOUS_ADDRESS = "ambiguous_address"
    INVALID_ABI = "invalid_abi"
    UNKNOWN_FUNCTION = "unknown_function"
    INVALID_ARGUMENT = "invalid_argument"
    CALL_REVERTED = "call_reverted"
    BYTECODE_MISMATCH = "bytecode_mismatch"
    INVALID_SOURCE = "invalid_source"
    # audits
    CONTRACT_NOT_VERIFIED = "contract_not_verified"
    ANALYZER_UNAVAILABLE = "analyzer_unavailable"
    NOT_SOLIDITY = "not_solidity"
    UPLOAD_TOO_LARGE = "upload_too_large"
    AUDIT_NOT_FINISHED = "audit_not_finished"
    CONTRACT_NOT_REGISTERED = "contract_not_registered"
    # news
    FEED_EXISTS = "feed_exists"
    INVALID_FEED_URL = "invalid_feed_url"
    # system
    UNKNOWN_JOB = "unknown_job"
    UNKNOWN_CACHE = "unknown_cache"
    JOB_HAS_NO_ORGANIZATION_FORM = "job_has_no_organization_form"
    # pagination
    INVALID_CURSOR = "invalid_cursor"
    UNAPPLIED_PAYMENT_NOT_OPEN = "unapplied_payment_not_open"
    INVALID_FEE_TIER = "invalid_fee_tier"
    GAS_EXCEEDS_NET_PAY = "gas_exceeds_net_pay"
    GAS_FEE_RATE_UNAVAILABLE = "gas_fee_rate_unavailable"
    NETWORK_NOT_SUPPORTED = "network_not_supported"


class DomainError(Exception):
    """Base of every domain error: a code (usually an `ErrorCode`), a message for people and
    optional details for machines (e.g. {"field": "account_code"})."""

    def __init__(self, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code = str(code)
        self.message = message
        self.details = details or {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"


class InvalidInput(DomainError):
    """A value the caller sent is not acceptable (a field, an amount, a date range)."""


class InvalidRequest(DomainError):
    """The request cannot be honoured as made (a bad link token, a wrong current password, a
    missing idempotency key), though no single field is at fault."""


class NotAuthenticated(DomainError):
    """Who is asking could not be established (wrong credentials, an ended session)."""


class Forbidden(DomainError):
    """The actor is known but may not do this."""


class NotFound(DomainError):
    """No such object for this actor (another organization's object is indistinguishable)."""


class Conflict(DomainError):
    """The request is valid but clashes with the current state (a locked period, a taken code)."""


class Expired(DomainError):
    """The thing asked for existed but is gone for good (an expired invitation)."""


class TooLarge(DomainError):
    """The upload or request body exceeds the limit."""


class RateLimited(DomainError):
    """Too many attempts; `retry_after_seconds` says when to try again."""

    def __init__(self, retry_after_seconds: int, message: str = "Too many requests; try again later."):
        super().__init__(ErrorCode.RATE_LIMITED, message, {"retry_after_seconds": retry_after_seconds})
        self.retry_after_seconds = retry_after_seconds


class Unavailable(DomainError):
    """A service the work depends on (the chain node, a price API) does not answer."""
