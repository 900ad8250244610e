"""WebSocket consumers for crypto payroll (periods, payslips, payroll entries, recurring payments)."""
