"""Cost weights of the objective: the request's options turned into one integer currency.

Every soft rule is priced in travel minutes (``Options``: one minute of overtime
weighs ``overtime_cost_per_min`` minutes of driving, one minute of SLA lateness
``sla_cost_per_min[priority]``, and so on), so the trade-offs read the same way
in the request and in the model. OR-Tools wants integer coefficients per second
of cumul, so the model's unit is a tenth of a travel second (``COST_UNITS_PER_S``
per second of travel): fractional weights such as 0.5 travel minutes per late
minute stay exact to 0.1. Solomon-style requests (no SLA, no preferences, no
overtime) pay travel only, whatever these weights are.
"""

from __future__ import annotations

from dataclasses import dataclass

from optimiser.schema import Options

COST_UNITS_PER_S = 10
"""Objective units per second of travel (the arc cost is travel seconds times this)."""


def _per_s(travel_min_per_min: float) -> int:
    """A weight in travel minutes per minute as integer objective units per second."""
    return round(travel_min_per_min * COST_UNITS_PER_S)


@dataclass(frozen=True)
class CostWeights:
    """The objective's coefficients for one request, in objective units."""

    travel_per_s: int
    overtime_per_s: int
    sla_per_s: dict[int, int]
    """Per second a visit starts after ``sla_due``, by priority."""
    drift_per_s: int
    """Re-planning: per second a visit moves beyond ``shift_tolerance_min`` of its planned start."""
    preferred_surcharge_s: int
    """Travel seconds a visit with preferred technicians costs when someone else does it."""
    move_surcharge_s: int
    """Travel seconds a visit with a planned technician costs when someone else does it."""

    def surcharge_units(self, travel_seconds: int) -> int:
        """A surcharge in travel seconds as objective units."""
        return travel_seconds * self.travel_per_s


def cost_weights(options: Options) -> CostWeights:
    """The coefficients the request's ``options`` ask for (defaults in ``Options``)."""
    return CostWeights(
        travel_per_s=COST_UNITS_PER_S,
        overtime_per_s=_per_s(options.overtime_cost_per_min),
        sla_per_s={p: _per_s(c) for p, c in options.sla_costs().items()},
        drift_per_s=_per_s(options.drift_cost_per_min),
        preferred_surcharge_s=round(options.preferred_bonus_min * 60),
        move_surcharge_s=round(options.move_cost_min * 60),
    )
