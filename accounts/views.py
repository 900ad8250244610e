"""HTMX back-office views for users, roles, sessions, employees, notifications and the audit log."""
