"""Appointments: on-site visits made from tickets or posted by other systems.

``models`` (tables), ``schemas`` (bodies), ``service`` (keyword-only functions,
incl. ``to_exchange`` for the planner), ``routes`` (HTTP only); pure helpers:
``lifecycle`` (the status transition table), ``geocoding`` + ``gazetteer``
(address to coordinates), ``csv_import`` (bulk files), ``idempotency``.
"""
