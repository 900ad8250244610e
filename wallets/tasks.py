"""Huey tasks for wallets: the periodic wallet monitor, the send reconciler, price refresh and
price-alert check."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from wallets.monitoring import monitor_scan
from wallets.prices import prices_refresh_current
from wallets.reconciler import sends_reconcile as sends_reconcile_now
from wallets.services import price_alerts_check as price_alerts_check_now


@db_periodic_task(crontab(minute="*"))
@lock_task("wallet-monitor")
def wallet_monitor_scan():
    """Every minute: record new confirmed transfers of monitored wallets (exactly once)."""
    report = monitor_scan()
    return {"from": report.from_block, "to": report.to_block, "recorded": report.recorded,
            "confirmed_sends": report.confirmed_sends}


@db_periodic_task(crontab(minute="*"))
@lock_task("sends-reconcile")
def sends_reconcile():
    """Every minute: stored sends against the node (rebroadcast lost bytes, settle mined ones, fill
    nonce gaps, mark stuck ones); see wallets.reconciler."""
    return sends_reconcile_now().as_dict()


@db_periodic_task(crontab(minute="*/10"))
@lock_task("prices-refresh")
def prices_refresh():
    """Every 10 minutes: current prices from the price API (does nothing offline)."""
    return prices_refresh_current()


@db_periodic_task(crontab(minute="*"))
@lock_task("price-alerts")
def price_alerts_check():
    """Every minute: fire price alerts whose threshold the current stored price has crossed (once each)."""
    return price_alerts_check_now()
