"""Back-office (HTMX) pages and the public payment page of invoicing."""

urlpatterns: list = []
