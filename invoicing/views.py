"""HTMX back-office views for invoices paid in crypto."""
