"""Huey tasks for transaction classification, contract registry and audits, news."""
