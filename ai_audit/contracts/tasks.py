"""Huey tasks of contracts: settling write calls sent on networks other than the default one (the
wallets reconciler follows the default chain; this job does the same for polygon, bsc, ...)."""

from core.scheduling import cron, periodic_job
from wallets.transfers import sends_refresh_other_chains


@periodic_job("contract_calls_refresh", cron(minute="*"),
              description="Sends on the other networks (contract calls): rebroadcast lost bytes, settle mined ones.")
def contract_calls_refresh():
    """Every minute: open sends on networks other than the default chain, against their own nodes."""
    return sends_refresh_other_chains()
