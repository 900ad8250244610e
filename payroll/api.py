"""JSON API router for crypto payroll (periods, payslips, payroll entries, recurring payments) (thin: parses, calls services/selectors, serialises)."""
