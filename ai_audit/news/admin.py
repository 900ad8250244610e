"""Admin of news: the organization's RSS/Atom feeds (managers and admins add, pause and remove them;
core.permissions.can_manage_news_feeds) and the fetched items (read-only). Scoped by organization."""

from django import forms
from django.contrib import admin, messages

from ai_audit.models import NewsFeed, NewsItem
from ai_audit.news import services
from core import permissions
from core.admin_base import OrganizationScopedAdmin
from core.errors import DomainError


class NewsFeedForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = NewsFeed
        fields = ("name", "url", "is_active")

    def clean_url(self):
        try:  # the same rule as the page and the API: http(s) on a public address
            return services.feed_url_allowed(self.cleaned_data["url"])
        except DomainError as error:
            raise forms.ValidationError(error.message) from None


@admin.register(NewsFeed)
class NewsFeedAdmin(OrganizationScopedAdmin):
    form = NewsFeedForm
    list_display = ("name", "url", "is_active", "last_fetched_at", "last_status")
    fields = ("name", "url", "is_active", "last_fetched_at", "last_status")
    readonly_fields = ("last_fetched_at", "last_status")
    actions = ["fetch_now"]

    def has_view_permission(self, request, obj=None):
        return permissions.can_view_news(request.user)

    def has_add_permission(self, request):
        return permissions.can_manage_news_feeds(request.user)

    def has_change_permission(self, request, obj=None):
        return permissions.can_manage_news_feeds(request.user)

    def has_delete_permission(self, request, obj=None):
        return permissions.can_manage_news_feeds(request.user)

    @admin.action(description="Fetch the selected feeds now")
    def fetch_now(self, request, queryset):
        new = sum(services.feed_refresh(feed) for feed in queryset)
        self.message_user(request, f"{new} new items.", messages.SUCCESS)


@admin.register(NewsItem)
class NewsItemAdmin(OrganizationScopedAdmin):
    list_display = ("title", "feed", "published_at", "assets_text")
    list_filter = ("feed",)
    search_fields = ("title",)
    readonly_fields = ("feed", "dedupe_key", "title", "link", "summary", "published_at", "assets", "fetched_at")

    @admin.display(description="Assets")
    def assets_text(self, obj):
        return ", ".join(obj.assets)

    def has_view_permission(self, request, obj=None):
        return permissions.can_view_news(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return permissions.can_manage_news_feeds(request.user)
