"""Models of transaction classification, contract registry and audits, news."""
