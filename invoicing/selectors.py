"""Reads for invoices paid in crypto."""
