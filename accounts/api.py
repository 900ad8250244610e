"""JSON API router for users, roles, sessions, employees, notifications and the audit log (thin: parses, calls services/selectors, serialises)."""
