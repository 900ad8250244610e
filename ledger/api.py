"""JSON API router for the double-entry ledger (chart of accounts, journal entries, cost basis) (thin: parses, calls services/selectors, serialises)."""
