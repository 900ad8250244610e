"""WebSocket consumers for invoices paid in crypto."""
