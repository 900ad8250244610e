"""Models of crypto payroll (periods, payslips, payroll entries, recurring payments)."""
