"""Demo data: each app contributes a loader module, run in order by `manage.py load_demo`.

A loader module has `load(report)`: it must be idempotent (a second run creates nothing) and say in
the report what it created and what it skipped. Later issues extend the demo by adding a module here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

DEMO_LOADERS = (
    "accounts.demo",
    "wallets.demo",
    "ledger.demo",
)


@dataclass
class DemoReport:
    created: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def count(self, what: str, n: int = 1) -> None:
        self.created[what] = self.created.get(what, 0) + n

    def skip(self, reason: str) -> None:
        self.skipped.append(reason)


def demo_load() -> DemoReport:
    report = DemoReport()
    for module_name in DEMO_LOADERS:
        importlib.import_module(module_name).load(report)
    return report


def demo_logins() -> list[dict]:
    from accounts.demo import DEMO_USERS

    return [{"username": u["username"], "password": u["password"], "role": u["role"]} for u in DEMO_USERS]
