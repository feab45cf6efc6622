"""Priority from impact x urgency, with the matrix kept as data.

The service loads the admin-editable ``priority_matrix`` table into a plain
``{(impact, urgency): priority}`` mapping and hands it to these functions, so
the rule is testable without a database and never hard-coded in the service.
"""

from __future__ import annotations

from collections.abc import Mapping

LEVELS = (1, 2, 3)
"""Impact and urgency levels: 1 = high, 3 = low."""

PRIORITIES = (1, 2, 3, 4, 5)

Matrix = Mapping[tuple[int, int], int]

DEFAULT_MATRIX: dict[tuple[int, int], int] = {
    # ServiceNow's default 3x3 -> P1..P5
    (1, 1): 1, (1, 2): 2, (1, 3): 3,
    (2, 1): 2, (2, 2): 3, (2, 3): 4,
    (3, 1): 3, (3, 2): 4, (3, 3): 5,
}  # fmt: skip


def derive_priority(matrix: Matrix, *, impact: int, urgency: int) -> int:
    """Look ``(impact, urgency)`` up; a missing cell is a data error, not a default."""
    try:
        return matrix[(impact, urgency)]
    except KeyError:
        raise LookupError(
            f"priority matrix has no cell for impact={impact}, urgency={urgency}"
        ) from None


def matrix_problems(matrix: Matrix) -> list[tuple[str, str]]:
    """``(field, why)`` for every problem in a proposed matrix; empty when valid.

    A valid matrix has exactly one cell per impact x urgency pair, each a known
    priority, and never ranks a higher impact or urgency below a lower one (a
    matrix that makes a worse incident less urgent is a typo, not a policy).
    """
    problems: list[tuple[str, str]] = []
    expected = {(i, u) for i in LEVELS for u in LEVELS}
    for cell in sorted(expected - set(matrix)):
        problems.append((f"cells[{cell[0]},{cell[1]}]", "missing cell"))
    for cell in sorted(set(matrix) - expected):
        problems.append((f"cells[{cell[0]},{cell[1]}]", "impact and urgency must be 1..3"))
    for cell, value in sorted(matrix.items()):
        if cell in expected and value not in PRIORITIES:
            problems.append((f"cells[{cell[0]},{cell[1]}]", "priority must be 1..5"))
    if problems:
        return problems
    for impact in LEVELS:
        for urgency in LEVELS:
            here = matrix[(impact, urgency)]
            if impact < 3 and matrix[(impact + 1, urgency)] < here:
                why = "lower impact must not get a higher priority"
                problems.append((f"cells[{impact + 1},{urgency}]", why))
            if urgency < 3 and matrix[(impact, urgency + 1)] < here:
                why = "lower urgency must not get a higher priority"
                problems.append((f"cells[{impact},{urgency + 1}]", why))
    return problems
