"""Reads of the contract registry, always for an actor (their organization's contracts).

An address is unique per network, not globally: `contract_get_for(actor=, address=, network=None)`
finds the organization's contract at `address` on `network`; without a network it is the one contract
at that address, and when the address is registered on several networks it is an InvalidRequest
(ambiguous_address, details.networks) asking for `?network=`.
"""

from __future__ import annotations

from django.db.models import QuerySet
from eth_utils import is_address, to_checksum_address

from ai_audit.models import Contract
from core import permissions
from core.errors import ErrorCode, InvalidRequest, NotFound
from wallets import networks


def contract_list_for(actor, *, network: str | None = None, contract_type: str | None = None,
                      verified: bool | None = None) -> QuerySet[Contract]:
    permissions.require(permissions.can_view_contracts(actor), "Only members of an organization see its contracts.")
    queryset = Contract.objects.for_actor(actor)
    if network:
        queryset = queryset.filter(network=networks.network_get(network).name)
    if contract_type:
        queryset = queryset.filter(contract_type=contract_type)
    if verified is not None:
        queryset = queryset.filter(is_verified=verified)
    return queryset.order_by("-created_at", "-id")


def _checksum(address: str) -> str | None:
    address = (address or "").strip()
    if not is_address(address.lower()) or len(address) != 42:
        return None
    return to_checksum_address(address.lower())


def contract_get_for(*, actor, address: str, network: str | None = None) -> Contract:
    """The actor's organization's contract at `address` (any letter case) on `network` (a configured
    network name; optional unless the address is registered on several). NotFound for an unknown
    address, another network's or another organization's contract."""
    permissions.require(permissions.can_view_contracts(actor), "Only members of an organization see its contracts.")
    checksum = _checksum(address)
    if checksum is None:
        raise NotFound(ErrorCode.NOT_FOUND, "Not found.")
    queryset = Contract.objects.for_actor(actor).filter(address=checksum)
    if network:
        queryset = queryset.filter(network=networks.network_get(network).name)
    found = list(queryset[:10])
    if not found:
        raise NotFound(ErrorCode.NOT_FOUND, "Not found.")
    if len(found) > 1:
        names = sorted(contract.network for contract in found)
        raise InvalidRequest(ErrorCode.AMBIGUOUS_ADDRESS,
                             f"This address is registered on several networks ({', '.join(names)}); "
                             f"add ?network=<name>.", {"networks": names})
    return found[0]
