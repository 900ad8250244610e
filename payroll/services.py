"""Writes for crypto payroll (periods, payslips, payroll entries, recurring payments): `<entity>_<action>(*, ...)`, validated and transactional."""
