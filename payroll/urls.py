"""Back-office (HTMX) pages of payroll."""

urlpatterns: list = []
