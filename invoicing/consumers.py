"""WebSocket consumers of invoicing: the public payment page's socket /ws/pay/<token>/.

No login: the token in the path is the capability (192 random bits, the same one the page's URL
carries). A socket whose token names no issued invoice is closed with 4404 and joins nothing; a
valid one joins only that invoice's payment group (invoicing.events.pay_group), so it hears nothing
but its own invoice's payment events (`payment.seen`, `payment.confirmed`, `invoice.updated`), which
carry no names. It answers ping with pong like every other socket (core.consumers.BaseLiveConsumer:
frame size and depth limits included)."""

from channels.db import database_sync_to_async

from core.consumers import BaseLiveConsumer
from core.realtime import relay_ensure_running
from invoicing import selectors
from invoicing.events import pay_group, pay_payload

CLOSE_UNKNOWN_TOKEN = 4404


class PayPageConsumer(BaseLiveConsumer):
    async def connect(self):
        await self.accept()
        token = self.scope.get("url_route", {}).get("kwargs", {}).get("token", "")
        invoice = await database_sync_to_async(selectors.invoice_by_payment_token)(token)
        if invoice is None:
            await self.close(code=CLOSE_UNKNOWN_TOKEN)
            return
        await relay_ensure_running()
        self.joined_groups = [pay_group(invoice.pk)]
        await self.channel_layer.group_add(self.joined_groups[0], self.channel_name)
        await self.send_json({"type": "connected", "data": pay_payload(invoice)})
