"""HTMX back-office views for tax reports, financial statements, dashboard and exports."""
