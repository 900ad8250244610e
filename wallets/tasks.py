"""Huey tasks for wallets: the periodic wallet monitor, the send reconciler, price refresh and
price-alert check (periodic jobs: core.scheduling, behind the automation switch, one TaskRun each)."""

from core.scheduling import cron, periodic_job
from wallets.monitoring import monitor_scan
from wallets.prices import prices_refresh_current
from wallets.reconciler import sends_reconcile as sends_reconcile_now
from wallets.services import price_alerts_check as price_alerts_check_now


@periodic_job("wallet_monitor", cron(minute="*"),
              description="Record new confirmed transfers of monitored wallets (exactly once).")
def wallet_monitor_scan():
    """Every minute: record new confirmed transfers of monitored wallets (exactly once)."""
    report = monitor_scan()
    return {"from": report.from_block, "to": report.to_block, "recorded": report.recorded,
            "confirmed_sends": report.confirmed_sends}


@periodic_job("sends_reconcile", cron(minute="*"),
              description="Stored sends against the node: rebroadcast, settle, fill nonce gaps, mark stuck ones.")
def sends_reconcile():
    """Every minute: stored sends against the node (rebroadcast lost bytes, settle mined ones, fill
    nonce gaps, mark stuck ones); see wallets.reconciler."""
    return sends_reconcile_now().as_dict()


@periodic_job("prices_refresh", cron(minute="*/10"),
              description="Current prices from the price API (does nothing offline).")
def prices_refresh():
    """Every 10 minutes: current prices from the price API (does nothing offline)."""
    return prices_refresh_current()


@periodic_job("price_alerts", cron(minute="*"),
              description="Fire price alerts whose threshold the current stored price has crossed (once each).")
def price_alerts_check():
    """Every minute: fire price alerts whose threshold the current stored price has crossed (once each)."""
    return price_alerts_check_now()

