"""Travel matrices for a plan request: kilometres and minutes, plus integer model units.

The routing model works in integers, so every travel duration is also given in
whole SECONDS rounded UP: a plan that is feasible in the model is then never
late when re-checked with the exact float minutes. Distances get integer metres.

Points are the rows of the matrices: first the distinct technician start/end
locations (several technicians sharing a depot share one row), then one row per
appointment (two visits at the same address are still two rows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimiser.schema import Location, PlanRequest

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), as the exchange format prescribes."""


@dataclass(frozen=True)
class TravelMatrices:
    """Square matrices over ``num_points`` points; see the module doc for the point order."""

    distance_km: np.ndarray
    duration_min: np.ndarray
    duration_s: np.ndarray
    distance_m: np.ndarray
    technician_start: tuple[int, ...]
    technician_end: tuple[int, ...]
    appointment_point: tuple[int, ...]

    @property
    def num_points(self) -> int:
        return int(self.distance_km.shape[0])

    @property
    def num_depots(self) -> int:
        return self.num_points - len(self.appointment_point)


def great_circle_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Pairwise great-circle distances (km) between points given in degrees.

    Uses the same atan2 form as ``geopy.distance.great_circle`` (stable for both
    tiny and antipodal distances), broadcast over all pairs at once.
    """
    phi = np.radians(np.asarray(lat, dtype=float))
    lam = np.radians(np.asarray(lon, dtype=float))
    sin_phi, cos_phi = np.sin(phi), np.cos(phi)
    delta = lam[None, :] - lam[:, None]
    cos_delta, sin_delta = np.cos(delta), np.sin(delta)
    y = np.hypot(
        cos_phi[None, :] * sin_delta,
        cos_phi[:, None] * sin_phi[None, :] - sin_phi[:, None] * cos_phi[None, :] * cos_delta,
    )
    x = sin_phi[:, None] * sin_phi[None, :] + cos_phi[:, None] * cos_phi[None, :] * cos_delta
    return EARTH_RADIUS_KM * np.arctan2(y, x)


def _location_key(location: Location, matrix_mode: bool) -> tuple:
    return (location.index,) if matrix_mode else (location.lat, location.lon)


def build_travel(request: PlanRequest) -> TravelMatrices:
    """Travel matrices of ``request`` in the request's travel model."""
    matrix_mode = request.travel.model == "matrix"
    depot_rows: dict[tuple, int] = {}
    locations: list[Location] = []

    def depot_row(location: Location) -> int:
        key = _location_key(location, matrix_mode)
        if key not in depot_rows:
            depot_rows[key] = len(locations)
            locations.append(location)
        return depot_rows[key]

    starts = tuple(depot_row(t.start_location) for t in request.technicians)
    ends = tuple(depot_row(t.home_end) for t in request.technicians)
    first_appointment = len(locations)
    locations.extend(a.location for a in request.appointments)
    appointment_rows = tuple(range(first_appointment, len(locations)))

    if matrix_mode:
        rows = np.array([loc.index for loc in locations], dtype=np.int64)
        durations = np.asarray(request.travel.durations_min, dtype=float)
        distances = np.asarray(request.travel.distances_km, dtype=float)
        duration_min = durations[np.ix_(rows, rows)] if len(rows) else np.zeros((0, 0))
        distance_km = distances[np.ix_(rows, rows)] if len(rows) else np.zeros((0, 0))
    else:
        lat = np.array([loc.lat for loc in locations], dtype=float)
        lon = np.array([loc.lon for loc in locations], dtype=float)
        distance_km = great_circle_km(lat, lon) * request.travel.road_factor
        duration_min = distance_km / request.travel.speed_kmh * 60.0
    return make_matrices(distance_km, duration_min, starts, ends, appointment_rows)


def make_matrices(
    distance_km: np.ndarray,
    duration_min: np.ndarray,
    starts: tuple[int, ...],
    ends: tuple[int, ...],
    appointment_rows: tuple[int, ...],
) -> TravelMatrices:
    """Attach the integer model units to float matrices.

    Seconds round up (a 1e-9 s tolerance absorbs float noise such as 0.1 min x 60
    = 6.000000000000001); metres round to nearest, they only weigh costs.
    """
    distance_km = np.array(distance_km, dtype=float)
    duration_min = np.array(duration_min, dtype=float)
    np.fill_diagonal(distance_km, 0.0)
    np.fill_diagonal(duration_min, 0.0)
    return TravelMatrices(
        distance_km=distance_km,
        duration_min=duration_min,
        duration_s=np.maximum(np.ceil(duration_min * 60.0 - 1e-9), 0).astype(np.int64),
        distance_m=np.rint(distance_km * 1000.0).astype(np.int64),
        technician_start=starts,
        technician_end=ends,
        appointment_point=appointment_rows,
    )
