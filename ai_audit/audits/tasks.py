"""Huey tasks of audits."""
