"""Writes for invoices paid in crypto: `<entity>_<action>(*, ...)`, validated and transactional."""
