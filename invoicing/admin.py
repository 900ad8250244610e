"""Admin registrations for invoices paid in crypto."""
