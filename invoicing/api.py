"""JSON API router for invoices paid in crypto (thin: parses, calls services/selectors, serialises)."""
