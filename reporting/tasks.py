"""Huey tasks for tax reports, financial statements, dashboard and exports."""
