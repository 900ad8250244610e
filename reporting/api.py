"""JSON API router for tax reports, financial statements, dashboard and exports (thin: parses, calls services/selectors, serialises)."""
