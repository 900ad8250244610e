"""HTMX back-office views for transaction classification, contract registry and audits, news."""
