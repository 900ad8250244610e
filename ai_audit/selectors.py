"""Reads for transaction classification, contract registry and audits, news."""
