"""Drop penalties per priority level, so that higher priority always wins.

Every visit is optional (a first solution always exists); leaving one out costs
its priority's penalty. For strict dominance ONE visit of priority p must
outweigh leaving out ALL visits of lower priorities plus any possible change of
the remaining costs (travel, SLA, overtime, preferences)::

    penalty(p) = bound + 1 + sum over q > p of count(q) * penalty(q)

This grows geometrically with the number of levels and can overflow int64 on
large requests (OR-Tools saturates sums, which would silently break the
comparison). The fall-backs, used only when needed:

1. ``per_route``: count(q) is capped at the most visits one route can hold.
   Making room for a higher-priority visit never needs to drop more than one
   route's worth of lower ones, so the local search still prefers it.
2. ``scaled``: a geometric ratio chosen to fit; higher priority is strongly
   but no longer absolutely preferred.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

BUDGET = 2**62
"""Headroom below int64 max (9.2e18) for the total objective."""


def _ladder(counts: Mapping[int, int], bound: int,
            effective: Callable[[int], int]) -> dict[int, int]:
    penalties: dict[int, int] = {}
    lower = 0
    for priority in sorted(counts, reverse=True):
        penalties[priority] = bound + 1 + lower
        lower += effective(counts[priority]) * penalties[priority]
    return penalties


def _total(counts: Mapping[int, int], penalties: Mapping[int, int], bound: int) -> int:
    return sum(counts[p] * penalties[p] for p in counts) + bound


def priority_penalties(counts: Mapping[int, int], bound: int,
                       route_capacity: int) -> tuple[dict[int, int], str]:
    """Penalty per priority level and the mode used (``strict``, ``per_route``, ``scaled``).

    ``counts`` maps each priority present to its number of optional visits;
    ``bound`` bounds every non-penalty cost of a plan; ``route_capacity`` bounds
    the visits a single route can hold.
    """
    counts = {p: n for p, n in counts.items() if n > 0}
    if not counts:
        return {}, "strict"
    bound = max(int(bound), 0)
    strict = _ladder(counts, bound, lambda n: n)
    if _total(counts, strict, bound) < BUDGET:
        return strict, "strict"
    per_route = _ladder(counts, bound, lambda n: min(n, max(route_capacity, 1)))
    if _total(counts, per_route, bound) < BUDGET:
        return per_route, "per_route"
    levels = sorted(counts, reverse=True)
    visits = sum(counts.values())
    base = max(min(bound + 1, BUDGET // (2 * visits)), 1)

    def geometric(ratio: float) -> dict[int, int]:
        return {p: int(base * ratio ** k) for k, p in enumerate(levels)}

    ratio = 1.0
    while _total(counts, geometric(ratio * 1.1), bound) < BUDGET:
        ratio *= 1.1
    return geometric(ratio), "scaled"
