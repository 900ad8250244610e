"""WebSocket consumers of accounts: the user's own notification feed (per user, in any organization)."""

from core.consumers import BaseLiveConsumer
from core.realtime import user_group


class NotificationsConsumer(BaseLiveConsumer):
    def group_names_for(self, user):
        return [user_group(user.pk)]
