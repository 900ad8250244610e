"""Back-office (HTMX) pages of the ledger."""

urlpatterns: list = []
