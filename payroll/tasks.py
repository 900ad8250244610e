"""Huey tasks for payroll. None yet: paying recurring payments' due occurrences (the calendar is
payroll.engine.calendar, the schedules payroll.models.RecurringPayment) and the crypto payout of
payslips come with the exactly-once on-chain payout machinery (wallets/transfers.py)."""
