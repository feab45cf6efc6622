"""Travel matrices: the spec's haversine model against geopy, the matrix model, model units."""

from __future__ import annotations

import math

import numpy as np
import pytest
from geopy.distance import great_circle

from optimiser.schema import Location, Travel
from optimiser.travel import EARTH_RADIUS_KM, build_travel, great_circle_km, make_matrices
from tests.optimiser.conftest import appt, make_request, near, tech


def _random_points(count: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(-89, 89, count), rng.uniform(-180, 180, count)


def test_great_circle_matches_geopy_with_the_spec_radius():
    lat, lon = _random_points(40)
    ours = great_circle_km(lat, lon)
    for i in range(len(lat)):
        for j in range(len(lat)):
            expected = great_circle((lat[i], lon[i]), (lat[j], lon[j]),
                                    radius=EARTH_RADIUS_KM).km
            assert ours[i, j] == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_city_scale_distances_match_geopy():
    points = [near(0, 0), near(0.05, 0.02), near(3, -4), near(-12, 7)]
    lat = np.array([p.lat for p in points])
    lon = np.array([p.lon for p in points])
    ours = great_circle_km(lat, lon)
    for i, a in enumerate(points):
        for j, b in enumerate(points):
            expected = great_circle((a.lat, a.lon), (b.lat, b.lon), radius=EARTH_RADIUS_KM).km
            assert ours[i, j] == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_request_matrices_apply_road_factor_and_speed():
    request = make_request(
        [tech("T1", location=near(0, 0)), tech("T2", location=near(2, 1))],
        [appt("A1", location=near(5, 0)), appt("A2", location=near(-3, 4))],
        travel=Travel(speed_kmh=30, road_factor=1.4))
    travel = build_travel(request)
    a1 = travel.appointment_point[0]
    t1 = travel.technician_start[0]
    home, visit = request.technicians[0].start_location, request.appointments[0].location
    km = great_circle((home.lat, home.lon), (visit.lat, visit.lon), radius=EARTH_RADIUS_KM).km
    assert travel.distance_km[t1, a1] == pytest.approx(km * 1.4, rel=1e-9)
    assert travel.duration_min[t1, a1] == pytest.approx(km * 1.4 / 30 * 60, rel=1e-9)


def test_model_units_round_travel_up_to_whole_seconds_and_metres_to_nearest():
    request = make_request([tech("T1")], [appt("A1", location=near(5, 0)),
                                          appt("A2", location=near(1.234, 0.5))])
    travel = build_travel(request)
    exact_s = travel.duration_min * 60
    assert travel.duration_s.dtype == np.int64
    assert np.all(travel.duration_s >= exact_s - 1e-9)
    assert np.all(travel.duration_s < exact_s + 1)
    assert np.array_equal(travel.distance_m, np.rint(travel.distance_km * 1000).astype(np.int64))
    assert np.all(np.diag(travel.duration_s) == 0)


def test_float_noise_does_not_add_a_second():
    matrices = make_matrices(np.zeros((2, 2)), np.array([[0, 0.1], [0.1, 0]]), (0,), (0,), (1,))
    assert matrices.duration_s[0, 1] == 6  # 0.1 min * 60 = 6.000000000000001


def test_technicians_sharing_a_home_share_one_row_and_appointments_keep_their_own():
    home = near(1, 1)
    request = make_request(
        [tech("T1", location=home), tech("T2", location=home),
         tech("T3", location=near(4, 4), end_location=home)],
        [appt("A1", location=home), appt("A2", location=home)])
    travel = build_travel(request)
    assert travel.technician_start[0] == travel.technician_start[1] == travel.technician_end[2]
    assert travel.technician_start[2] != travel.technician_start[0]
    assert travel.num_depots == 2
    assert len(set(travel.appointment_point)) == 2
    assert travel.num_points == 4


def test_matrix_model_reads_rows_by_index():
    durations = [[0, 10, 20], [11, 0, 5.5], [21, 6, 0]]
    distances = [[0, 1, 2], [1.1, 0, 0.5], [2.1, 0.6, 0]]
    request = make_request(
        [tech("T1", location=Location(index=0))],
        [appt("A1", location=Location(index=2)), appt("A2", location=Location(index=1))],
        travel=Travel(model="matrix", durations_min=durations, distances_km=distances))
    travel = build_travel(request)
    depot = travel.technician_start[0]
    a1, a2 = travel.appointment_point
    assert travel.duration_min[depot, a1] == 20
    assert travel.duration_min[a1, a2] == 6
    assert travel.distance_km[a2, a1] == 0.5
    assert travel.duration_s[a2, a1] == 330


def test_two_thousand_points_in_one_vectorised_call():
    lat, lon = _random_points(2000, seed=11)
    matrix = great_circle_km(lat, lon)
    assert matrix.shape == (2000, 2000)
    assert np.allclose(matrix, matrix.T)
    i, j = 17, 1234
    expected = great_circle((lat[i], lon[i]), (lat[j], lon[j]), radius=EARTH_RADIUS_KM).km
    assert math.isclose(matrix[i, j], expected, rel_tol=1e-9)
