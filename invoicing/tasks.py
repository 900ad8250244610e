"""Huey tasks for invoices paid in crypto."""
