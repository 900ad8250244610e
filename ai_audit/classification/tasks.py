"""Huey tasks of classification."""
