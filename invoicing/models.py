"""Models of invoices paid in crypto."""
