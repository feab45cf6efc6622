"""Shared bits of the benchmark scripts: machine header, tables, optional validator.

The scripts print figures for people; they are not tests and CI never runs them.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"

if str(REPO) not in sys.path:  # run as `python tests/benchmarks/x.py`: make `data` importable
    sys.path.insert(0, str(REPO))


def machine_header() -> str:
    """CPU model, cores, load and library versions: timings mean nothing without them."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") \
        else "n/a"
    versions = []
    for package in ("ortools", "pyvrp", "pyvroom"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} missing")
    return (f"machine: {model}, {os.cpu_count()} logical cores, load avg {load} "
            f"(shared machine: wall-clock timings are noisy)\n"
            f"python {platform.python_version()}, {', '.join(versions)}")


def format_table(rows: Sequence[dict], columns: Sequence[str]) -> str:
    """A plain fixed-width table; floats with 2 decimals, None as '-'."""
    def cell(value) -> str:
        if value is None:
            return "-"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, float):
            return f"{value:.2f}"
        return str(value)

    cells = [[cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def load_validator() -> Callable | None:
    """``optimiser.validate.validate_plan`` if it exists yet, else None (reported as n/a)."""
    try:
        from optimiser.validate import validate_plan
    except ImportError:
        return None
    return validate_plan


def load_solver() -> Callable:
    """``optimiser.solve``; a clear message if it has not landed yet."""
    try:
        from optimiser import solve
    except ImportError as exc:
        raise SystemExit(f"optimiser.solve is not available yet ({exc}); "
                         f"use --no-ours to run only the reference solvers") from exc
    return solve


def patch_search_parameters(snippets: list[str]) -> None:
    """Benchmark-side tuning experiments: merge protobuf text into the solver's parameters.

    ``snippets`` are ``RoutingSearchParameters`` in protobuf text format, e.g.
    ``"local_search_metaheuristic: SIMULATED_ANNEALING"`` or
    ``"local_search_operators { use_tsp_opt: BOOL_TRUE }"``. They are merged
    after ``optimiser.search.search_parameters`` builds its parameters, so the
    model's own code is measured unchanged apart from them. Nothing is patched
    when ``snippets`` is empty.
    """
    if not snippets:
        return
    from google.protobuf import text_format

    import optimiser.solver as solver_module

    original = solver_module.search_parameters

    def patched(*args, **kwargs):
        params = original(*args, **kwargs)
        for snippet in snippets:
            text_format.Merge(snippet, params)
        return params

    solver_module.search_parameters = patched
