"""Cost weights of the objective: the request's options turned into one integer currency.

Every soft rule is priced in travel minutes (``Options``: one minute of overtime
weighs ``overtime_cost_per_min`` minutes of driving, one minute of SLA lateness
``sla_cost_per_min[priority]``, and so on), so the trade-offs read the same way
in the request and in the model. OR-Tools wants integer coefficients per second
of cumul, so the model's unit is a fraction of a travel second: the coarsest of
1, 1/2, 1/4, 1/5 and 1/10 that makes every weight whole (weights are exact to
0.1). Coarse on purpose: the drop penalties must exceed every other cost of a
plan, so they grow with the objective's unit, and int64 is finite (``penalties``).
Solomon-style requests (no SLA, no preferences, no overtime) pay travel only,
whatever these weights are.
"""

from __future__ import annotations

from dataclasses import dataclass

from optimiser.schema import Options

UNITS_PER_S_CHOICES = (1, 2, 4, 5, 10)
"""Candidate objective units per travel second, coarsest first."""


def units_per_s(weights: list[float]) -> int:
    """The coarsest unit in which every weight (travel minutes per minute) is whole."""
    for units in UNITS_PER_S_CHOICES:
        if all(abs(w * units - round(w * units)) < 1e-9 for w in weights):
            return units
    return UNITS_PER_S_CHOICES[-1]


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
    sla = options.sla_costs()
    units = units_per_s([*sla.values(), options.overtime_cost_per_min,
                         options.drift_cost_per_min])

    def per_s(travel_min_per_min: float) -> int:
        return round(travel_min_per_min * units)

    return CostWeights(
        travel_per_s=units,
        overtime_per_s=per_s(options.overtime_cost_per_min),
        sla_per_s={p: per_s(c) for p, c in sla.items()},
        drift_per_s=per_s(options.drift_cost_per_min),
        preferred_surcharge_s=round(options.preferred_bonus_min * 60),
        move_surcharge_s=round(options.move_cost_min * 60),
    )
