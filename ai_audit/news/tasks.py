"""Huey tasks of news."""
