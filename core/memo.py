"""Results kept in this process under a key that names everything they were computed from (issue 17:
a whole history read is the cost of the portfolio, the dashboard and a transaction's books; while its
inputs stand still it need not be read again).

The key must move with every input (callers build it from the change marks and row counts, read
before the data, so a key is never newer than its result); `seconds` bounds how long a result lives
even so, `entries` how many are kept (least recently used go first). Per process: another server
process computes its own.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class RecentResults:
    def __init__(self, *, seconds: float, entries: int):
        self.seconds, self.entries = seconds, entries
        self._kept: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and time.monotonic() - kept[0] < self.seconds:
                self._kept.move_to_end(key)
                return kept[1]
        value = compute()  # outside the lock: two requests may both compute; both results are right
        with self._lock:
            self._kept[key] = (time.monotonic(), value)
            self._kept.move_to_end(key)
            while len(self._kept) > self.entries:
                self._kept.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
