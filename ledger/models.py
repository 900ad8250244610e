"""Models of the double-entry ledger (chart of accounts, journal entries, cost basis)."""
