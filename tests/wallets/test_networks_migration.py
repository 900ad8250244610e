"""wallets/0013_networks: sends stored before networks get the network of their chain id, and a
wallet's address is unique per (organization, network) in the database itself."""

import importlib

import pytest
from django.apps import apps
from django.db import IntegrityError, connection
from eth_account import Account

from wallets.models import OutgoingTransfer, Wallet, WalletType

pytestmark = pytest.mark.django_db

migration = importlib.import_module("wallets.migrations.0013_networks")


class _SchemaEditor:
    connection = connection


def test_stored_sends_get_the_network_of_their_chain_id(settings):
    settings.POLYGON_RPC_URL, settings.POLYGON_CHAIN_ID = "http://127.0.0.1:1", 137
    connection.ensure_connection()
    raw = connection.database["outgoing_transfers"]
    ids = {chain_id: raw.insert_one({"chain_id": chain_id, "network": "", "status": "CONFIRMED"}).inserted_id
           for chain_id in (int(settings.ETH_CHAIN_ID), 137, 999)}
    named = raw.insert_one({"chain_id": 137, "network": "custom", "status": "CONFIRMED"}).inserted_id
    migration.sends_get_their_network(apps, _SchemaEditor())
    networks = {chain_id: raw.find_one({"_id": _id})["network"] for chain_id, _id in ids.items()}
    assert networks == {int(settings.ETH_CHAIN_ID): "ethereum", 137: "polygon", 999: "chain-999"}
    assert raw.find_one({"_id": named})["network"] == "custom"  # a named one is left as it is
    assert OutgoingTransfer.objects.filter(network="").count() == 0


def test_an_address_is_unique_per_organization_and_network(make_user):
    user = make_user()
    address = Account.create().address
    fields = {"name": "w", "address": address, "user": user, "organization_id": user.organization_id,
              "wallet_type": WalletType.METAMASK}
    Wallet.objects.create(network="ethereum", slot=0, **fields)
    Wallet.objects.create(network="polygon", slot=1, **fields)
    with pytest.raises(IntegrityError):
        Wallet.objects.create(network="polygon", slot=2, **fields)
    assert Wallet.objects.filter(address=address).count() == 2
