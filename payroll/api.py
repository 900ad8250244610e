"""JSON API routers of payroll (thin: parse, call services/selectors, serialise). Mounted in
config/api.py: `periods_router` at /api/payroll/periods/, `payslips_router` at /api/payslips/."""

from ninja import Router

periods_router = Router(tags=["payroll"])
payslips_router = Router(tags=["payslips"])
