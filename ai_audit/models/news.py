"""Models of news: the RSS/Atom feeds an organization configures and the items fetched from them."""

from django.db import models
from django_mongodb_backend.fields import ArrayField

from core.tenancy import OrganizationOwned

__all__ = ["NewsFeed", "NewsItem"]


class NewsFeed(OrganizationOwned):
    name = models.CharField(max_length=120)
    url = models.URLField(max_length=500)
    is_active = models.BooleanField(default=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=300, blank=True, default="")  # "ok: 12 new" or the error
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "news_feeds"
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "url"], name="news_feeds_org_url_uniq")]
        indexes = [models.Index(fields=["organization", "url"], name="news_feeds_org_url_idx")]

    def __str__(self):
        return self.name


class NewsItem(OrganizationOwned):
    feed = models.ForeignKey(NewsFeed, on_delete=models.CASCADE, related_name="items")
    # The item's identity in its feed (guid / id, else its link, else a hash of title and date):
    # the same item fetched again is not stored twice.
    dedupe_key = models.CharField(max_length=64)
    title = models.CharField(max_length=500)
    link = models.URLField(max_length=1000, blank=True, default="")
    summary = models.TextField(blank=True, default="")  # plain text, tags stripped, bounded
    published_at = models.DateTimeField(null=True, blank=True)
    assets = ArrayField(models.CharField(max_length=20), default=list, blank=True)  # symbols mentioned, e.g. ["BTC", "ETH"]
    fetched_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "news_items"
        ordering = ["-published_at", "-fetched_at"]
        constraints = [models.UniqueConstraint(fields=["organization", "dedupe_key"], name="news_items_org_key_uniq")]
        indexes = [
            models.Index(fields=["organization", "dedupe_key"], name="news_items_org_key_idx"),
            models.Index(fields=["organization", "-published_at"], name="news_items_org_published_idx"),
            models.Index(fields=["organization", "assets"], name="news_items_org_assets_idx"),
        ]

    def __str__(self):
        return self.title
