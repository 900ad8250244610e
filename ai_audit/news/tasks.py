"""Huey tasks of news: the periodic fetch of every organization's feeds."""


from ai_audit.news.services import news_refresh_all
from core.scheduling import cron, periodic_job


@periodic_job("news_refresh", cron(minute="*/15"),
              description="Fetch every organization's news feeds.")
def news_refresh():
    """Every 15 minutes: new items of every active RSS/Atom feed (deduplicated, time-limited per feed)."""
    return news_refresh_all()
