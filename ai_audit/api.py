"""JSON API router for transaction classification, contract registry and audits, news (thin: parses, calls services/selectors, serialises)."""
