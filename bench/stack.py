"""The stack a benchmark runs against: its own embedded MongoDB (on-disk, in a temporary folder) and
anvil on free ports, the process environment pointing Django at them, `django.setup()`, and
everything stopped and removed on exit. Used by bench/monitor.py and bench/send_chaos.py.

    with bench_stack("bench-monitor-", db_name="bench_monitor", confirmations=1) as stack:
        ...  # Django is set up; stack.work is the temporary folder, stack.eth_url the node
"""

import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

from core import localstack  # noqa: E402


@dataclass(frozen=True)
class BenchStack:
    work: Path
    mongodb_uri: str
    eth_url: str


@contextmanager
def bench_stack(prefix: str, *, db_name: str, confirmations: int, log_level: str = "WARNING",
                block_time: int | None = None, mongodb_uri: str = ""):
    """Start the database (unless `mongodb_uri` names one) and the node, set the environment, set
    Django up; stop and clean on exit. `block_time` None (or 0) mines one block per transaction."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    servers = []
    try:
        if not mongodb_uri:
            mongo_port = localstack.free_port()
            servers.append(localstack.start_embedded_mongodb(mongo_port, work / "db"))
            mongodb_uri = localstack.embedded_mongodb_uri(mongo_port)
        eth_port = localstack.free_port()
        servers.append(localstack.start_anvil(eth_port, block_time=block_time or None))
        stack = BenchStack(work=work, mongodb_uri=mongodb_uri, eth_url=f"http://127.0.0.1:{eth_port}")
        os.environ.update({
            "MONGODB_URI": stack.mongodb_uri, "MONGODB_NAME": db_name,
            "ETH_RPC_URL": stack.eth_url, "ETH_CHAIN_ID": "31337", "ETH_CONFIRMATIONS": str(confirmations),
            "DATA_DIR": str(work), "LOG_TO_FILES": "false", "LOG_LEVEL": log_level, "HUEY_IMMEDIATE": "true",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        })
        import django

        django.setup()
        yield stack
    finally:
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
