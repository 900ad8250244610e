"""HTMX back-office views for crypto payroll (periods, payslips, payroll entries, recurring payments)."""
