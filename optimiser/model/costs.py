"""Cost weights of the objective, all in the unit of the arc cost: seconds of travel.

Keeping every soft rule in one currency makes the trade-offs readable: one
minute of overtime weighs as much as two minutes of driving, one minute of SLA
lateness on a priority-1 visit as much as ten.
"""

from __future__ import annotations

OVERTIME_COST_PER_S = 2
"""Each second past the shift end costs two seconds of travel."""

SLA_COST_PER_S: dict[int, int] = {1: 10, 2: 5, 3: 3, 4: 2, 5: 1}
"""Each second a visit starts after ``sla_due``, by priority."""

PREFERRED_SURCHARGE_S = 30 * 60
"""Giving a visit with preferred technicians to someone else costs 30 travel minutes."""

STABILITY_COST_PER_S = 1
"""Re-planning: each second a visit moves beyond ``shift_tolerance_min`` of its planned start."""
