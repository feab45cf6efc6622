"""Field-service scheduling optimiser: a pure library (no web, no database).

The entry point is :func:`optimiser.solve`, which takes a
:class:`~optimiser.schema.PlanRequest` and returns a :class:`~optimiser.schema.Plan`.
"""

from optimiser.schema import Plan, PlanRequest
from optimiser.solver import Progress, solve

__all__ = ["Plan", "PlanRequest", "Progress", "solve"]
