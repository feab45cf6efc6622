"""Two people booking the last free window at the same moment: exactly one wins."""

from __future__ import annotations

import threading

from tests.api.dispatch_support import add_technician
from tests.api.test_slots_api import DRAFT


def test_concurrent_bookings_of_the_last_window_do_not_double_book(client, headers_for, app):
    add_technician(app, name="Ana Ruiz", home_lat=51.50, shift=("08:00", "10:00"), lunch=False)
    headers = [headers_for("dispatcher"), headers_for("dispatcher")]
    window = {"start": "2030-01-07T08:00:00+00:00", "end": "2030-01-07T10:00:00+00:00"}
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def attempt(h):
        barrier.wait()
        response = client.post("/api/v1/slots/book", headers=h, json={**DRAFT, "window": window})
        codes.append(response.status_code)

    threads = [threading.Thread(target=attempt, args=(h,)) for h in headers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [201, 409]
    listed = client.get("/api/v1/appointments", headers=headers[1]).json()
    assert listed["total"] == 1
