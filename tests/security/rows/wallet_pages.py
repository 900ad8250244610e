"""Access-matrix rows of issue 11's wallet pages, the fee bump endpoint and the notifications page.

Wallet pages follow the wallet's visibility (wallets.selectors.wallet_list_for: the owner, and the
organization's books roles for every wallet): another organization's wallet, or a colleague's for
a plain member, is a 404. Sending and the fee bump are for the wallet's owner and the managers
(core.permissions.can_send_from_wallet): an accountant sees the wallet and gets 403. A's wallet
belongs to A's plain user. Notifications are per person (their own only)."""

from tests.security.access_table import ADMIN, MANAGER, USER, Rule

SENDERS = frozenset({USER, MANAGER, ADMIN})
WALLET = "/app/wallets/{wallet_id}/"
TRANSFER = "/app/wallets/transfers/{transfer_id}/"

API = {
    ("POST", "/api/wallets/transfers/{transfer_id}/fee-bump/"): Rule(
        SENDERS, obj="transfer", body={}, destructive=True,
        note="a mined send answers 409; an open one is re-signed with a higher fee (same nonce)"),
}

PAGES = {
    ("GET", "/app/wallets/new/"): Rule(),
    ("POST", "/app/wallets/new/"): Rule(body={"name": "matrix wallet", "mode": "generate"}),
    ("GET", WALLET): Rule(obj="wallet"),
    ("GET", WALLET + "row/"): Rule(obj="wallet"),
    ("GET", WALLET + "balances/"): Rule(obj="wallet"),
    ("GET", WALLET + "activity/"): Rule(obj="wallet"),
    ("GET", WALLET + "receive/"): Rule(obj="wallet"),
    ("GET", WALLET + "gas/"): Rule(obj="wallet"),
    ("POST", WALLET + "send/"): Rule(SENDERS, obj="wallet", body={"asset": "ETH", "amount": "0"},
                                     note="stops at the amount (422): no send leaves"),
    ("POST", WALLET + "ownership/"): Rule(SENDERS, obj="wallet", body={"signature": "0x00"},
                                          note="a bad signature: 422, nothing changes"),
    ("GET", TRANSFER): Rule(obj="transfer"),
    ("POST", TRANSFER + "fee-bump/"): Rule(SENDERS, obj="transfer", body={}, destructive=True),
    # the transactions page's import (an empty post: 422 "choose a file", nothing imported) and the export
    # of the filtered list (issue 11): every member, over the transactions they may see
    ("POST", "/app/transactions/import/"): Rule(body={}),
    ("GET", "/app/transactions/export/"): Rule(),
    ("GET", "/app/notifications/"): Rule(),
    # notifications are per person: A's notification is its plain user's, hidden from colleagues
    ("POST", "/app/notifications/{notification_id}/read/"): Rule(frozenset({USER}), obj="notification",
                                                                  denied=404),
}



def make_fresh(kit) -> dict:
    from decimal import Decimal
    from uuid import uuid4

    from wallets import chain

    owner = kit.actors["A:user"]

    def new_transfer():
        # A real send from A's wallet (funded from a dev account), by its owner in an approved session.
        kit.ok(owner.api(kit.client, "POST", "/api/auth/confirm-password/", {"password": "Passw0rd!long"}), "approve")
        chain.eth_send_from_dev_account(to=kit.objects["wallet_address"], amount_wei=chain.eth_to_wei(Decimal("0.1")))
        body = kit.ok(owner.api(kit.client, "POST", "/api/blockchain/send-eth/", {
            "wallet_id": kit.objects["wallet"], "to": "0x000000000000000000000000000000000000dEaD",
            "amount": "0.001", "asset": "ETH"}, HTTP_IDEMPOTENCY_KEY=f"matrix-{uuid4().hex}"), "send")
        return kit.remember("transfer", body["id"])

    return {"transfer": new_transfer}
