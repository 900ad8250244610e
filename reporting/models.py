"""Models of tax reports, financial statements, dashboard and exports."""
