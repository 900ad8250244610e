"""Admin registrations for tax reports, financial statements, dashboard and exports."""
