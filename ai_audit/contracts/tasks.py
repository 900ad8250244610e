"""Huey tasks of contracts."""
