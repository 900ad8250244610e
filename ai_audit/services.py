"""Writes for transaction classification, contract registry and audits, news: `<entity>_<action>(*, ...)`, validated and transactional."""
