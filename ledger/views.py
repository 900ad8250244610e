"""HTMX back-office views for the double-entry ledger (chart of accounts, journal entries, cost basis)."""
