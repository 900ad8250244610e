"""WebSocket consumers of accounts: the user's own notification feed."""

from core.consumers import BaseLiveConsumer
from core.realtime import user_group


class NotificationsConsumer(BaseLiveConsumer):
    def group_names_for(self, user):
        return [user_group(user.pk)]
