"""ETA chain timing (pure): travel from the travel module, booking windows, pending breaks.

Points on the meridian 0.12 W (``dispatch_support``): 0.05 degrees = one leg of
650.49 s at the default 40 km/h and road factor 1.3.
"""

from __future__ import annotations

from datetime import timedelta

from api.dispatch.eta import ChainStop, legs, time_chain
from optimiser.schema import Break
from tests.api.dispatch_support import LON, at, ceil_second, leg_km, leg_min

LEG = timedelta(minutes=leg_min(51.50, 51.55))


def stop(key: int, lat: float, duration_min: float = 60, windows=()) -> ChainStop:
    return ChainStop(key, (lat, LON), duration_min, tuple(windows))


def test_legs_follow_the_travel_model_and_come_home():
    found = legs((51.50, LON), [(51.55, LON), (51.65, LON)], (51.50, LON))
    assert [round(leg.travel_min, 3) for leg in found] == \
        [round(leg_min(51.50, 51.55), 3), round(leg_min(51.55, 51.65), 3),
         round(leg_min(51.65, 51.50), 3)]
    assert round(found[1].distance_km, 4) == round(leg_km(51.55, 51.65), 4)


def test_visits_wait_for_their_window_and_a_missed_window_is_late():
    etas = time_chain(leave_at=at("09:00"), origin=(51.50, LON), stops=[
        stop(1, 51.55, windows=[(at("10:00"), at("11:00"))]),   # arrives 09:10:51, waits
        stop(2, 51.60, windows=[(at("08:00"), at("09:00"))]),   # window long gone
        stop(3, 51.65)])
    assert [e.key for e in etas] == [1, 2, 3]
    assert etas[0].start == at("10:00") and not etas[0].late
    assert etas[0].arrival == ceil_second(at("09:00") + LEG)
    assert etas[1].start == ceil_second(at("11:00") + LEG) and etas[1].late
    assert etas[2].start == ceil_second(etas[1].end + LEG)


def test_a_pending_break_goes_where_it_costs_nothing_or_where_it_must():
    lunch = Break(earliest_start=at("12:00"), latest_end=at("14:00"), duration_min=30)
    # Free: the visit's window opens 13:30, so the break fits in the wait.
    etas = time_chain(leave_at=at("12:00"), origin=(51.50, LON), breaks=[lunch],
                      stops=[stop(1, 51.55, windows=[(at("13:30"), at("15:00"))])])
    assert etas[0].start == at("13:30")
    # Must: a 90-minute visit from 12:10 would end after the break's latest start (13:30).
    etas = time_chain(leave_at=at("12:00"), origin=(51.50, LON), breaks=[lunch],
                      stops=[stop(1, 51.55, duration_min=90)])
    assert etas[0].start == ceil_second(at("12:30") + LEG)
    # Neither: two 30-minute visits end 12:40:51 and 13:10:51, both before the break's
    # latest start, so neither is delayed (the break comes after them).
    etas = time_chain(leave_at=at("12:00"), origin=(51.50, LON), breaks=[lunch],
                      stops=[stop(1, 51.55, duration_min=30), stop(2, 51.55, duration_min=30)])
    assert etas[0].start == ceil_second(at("12:00") + LEG)
    assert etas[1].start == etas[0].end


def test_a_break_already_over_is_ignored():
    lunch = Break(earliest_start=at("12:00"), latest_end=at("14:00"), duration_min=30)
    etas = time_chain(leave_at=at("15:00"), origin=(51.50, LON), breaks=[lunch],
                      stops=[stop(1, 51.55)])
    assert etas[0].start == ceil_second(at("15:00") + LEG)
