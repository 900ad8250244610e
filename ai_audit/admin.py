"""Admin registrations for transaction classification, contract registry and audits, news."""
