"""Back-office (HTMX) pages of reporting."""

urlpatterns: list = []
