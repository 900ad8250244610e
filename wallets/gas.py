"""Fee tiers from the node's fee history (pure: no Django, no node; callers pass `eth_feeHistory`).

`eth_feeHistory(blocks, "latest", [10, 50, 90])` gives, per recent block, the priority fees (tips)
paid at the 10th, 50th and 90th percentile of its gas, and the base fee of each block plus the next
one. The tiers read the same percentile across those blocks:
- slow: the 10th percentile of the blocks' 10th-percentile tips (what the cheapest inclusions paid),
- normal: the median of their medians,
- fast: the 90th percentile of their 90th-percentile tips.
Only blocks that carried transactions count (an empty block says nothing about the going price).
The expected wait of a tier: the share p of recent blocks whose cheapest included tip (its 10th
percentile; any tip for an empty block) the tier's tip reaches; one block in 1/p, so ceil(1/p) blocks
times the chain's average block interval. No block accepts it: `None` (unknown).
The max fee per gas is twice the next base fee plus the tip, so a send survives a few full blocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PERCENTILES = (10, 50, 90)
TIER_NAMES = ("slow", "normal", "fast")


@dataclass(frozen=True)
class FeeTier:
    name: str
    max_priority_fee_per_gas: int
    max_fee_per_gas: int
    expected_wait_blocks: int | None
    expected_wait_seconds: float | None


def percentile(values: list[int], pct: int) -> int:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def fee_tiers(*, rewards: list[list[int]], gas_used_ratios: list[float], next_base_fee: int,
              block_seconds: float, minimum_tip: int = 0) -> list[FeeTier]:
    """Tiers slow/normal/fast (in that order; tips never decrease from one to the next)."""
    busy = [reward for reward, ratio in zip(rewards, gas_used_ratios, strict=False) if ratio > 0 and reward]
    if busy:
        tips = [percentile([reward[column] for reward in busy], pct) for column, pct in enumerate(PERCENTILES)]
    else:
        tips = [0, 0, 0]
    tips = [max(tip, minimum_tip) for tip in tips]
    for index in range(1, len(tips)):
        tips[index] = max(tips[index], tips[index - 1])
    # The cheapest tip each recent block included (None: an empty block, which takes any tip).
    floors = [reward[0] if ratio > 0 and reward else None
              for reward, ratio in zip(rewards, gas_used_ratios, strict=False)]
    tiers = []
    for name, tip in zip(TIER_NAMES, tips, strict=True):
        blocks = _expected_blocks(tip, floors)
        tiers.append(FeeTier(name=name, max_priority_fee_per_gas=tip, max_fee_per_gas=2 * next_base_fee + tip,
                             expected_wait_blocks=blocks,
                             expected_wait_seconds=None if blocks is None else round(blocks * block_seconds, 1)))
    return tiers


def _expected_blocks(tip: int, floors: list[int | None]) -> int | None:
    if not floors:
        return 1
    accepting = sum(1 for floor in floors if floor is None or tip >= floor)
    if accepting == 0:
        return None
    return math.ceil(len(floors) / accepting)
