"""Huey tasks for users, roles, sessions, employees, notifications and the audit log."""
