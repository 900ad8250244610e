"""Writes for the double-entry ledger (chart of accounts, journal entries, cost basis): `<entity>_<action>(*, ...)`, validated and transactional."""
