"""Models of contracts: the organization's registry of smart contracts, one per (network, address)."""

from django.conf import settings
from django.db import models

from core.tenancy import OrganizationOwned

__all__ = ["Contract", "ContractType", "VerificationStatus"]


class ContractType(models.TextChoices):
    ERC20 = "erc20", "ERC-20 token"
    ERC721 = "erc721", "ERC-721 NFT"
    ERC1155 = "erc1155", "ERC-1155 multi-token"
    CUSTOM = "custom", "Custom"


class VerificationStatus(models.TextChoices):
    UNVERIFIED = "unverified", "Not verified"
    VERIFIED = "verified", "Verified"
    MISMATCH = "mismatch", "Source does not match"


class Contract(OrganizationOwned):
    """A contract the organization follows. Unique per (organization, network, address): the same
    address on two networks is two contracts. `abi` is the one given at registration or a standard
    one for its type, replaced by the compiler's on verification. `runtime_bytecode` is the on-chain
    code read at registration (0x hex). `is_verified` is True only after a verification whose
    compiled runtime code matched it; `source_standard_json` then holds the standard-JSON input that
    matched (and `compiler_version` its solc version)."""

    address = models.CharField(max_length=42)  # EIP-55 checksummed
    network = models.CharField(max_length=40)  # wallets.networks name
    chain_id = models.BigIntegerField()
    name = models.CharField(max_length=200)
    contract_type = models.CharField(max_length=10, choices=ContractType.choices, default=ContractType.CUSTOM)
    abi = models.JSONField(default=list, blank=True)
    runtime_bytecode = models.TextField(blank=True, default="")
    code_hash = models.CharField(max_length=66, blank=True, default="")
    # The deployment, where the node could tell (None/"" otherwise).
    creation_tx = models.CharField(max_length=66, blank=True, default="")
    creation_block = models.BigIntegerField(null=True, blank=True)
    deployer = models.CharField(max_length=42, blank=True, default="")
    # ERC-20 / ERC-721 metadata read from the contract ("" / None when it does not answer).
    token_name = models.CharField(max_length=200, blank=True, default="")
    token_symbol = models.CharField(max_length=50, blank=True, default="")
    token_decimals = models.IntegerField(null=True, blank=True)
    # Verification.
    is_verified = models.BooleanField(default=False)
    verification_status = models.CharField(max_length=12, choices=VerificationStatus.choices,
                                           default=VerificationStatus.UNVERIFIED)
    verification_summary = models.TextField(blank=True, default="")
    verification_details = models.JSONField(default=dict, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    source_standard_json = models.JSONField(null=True, blank=True)
    compiler_version = models.CharField(max_length=60, blank=True, default="")
    compiled_contract_name = models.CharField(max_length=300, blank=True, default="")
    notes = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "contracts"
        constraints = [models.UniqueConstraint(fields=["organization", "network", "address"],
                                               name="contracts_org_network_address_unique")]
        indexes = [models.Index(fields=["organization", "-created_at"], name="contracts_org_created_idx"),
                   models.Index(fields=["organization", "address"], name="contracts_org_address_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.network} {self.address})"
