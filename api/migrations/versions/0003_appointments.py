"""Appointments: appointments, the geocode cache and idempotency keys.

Revision ID: 0003_appointments
Revises: 0002_tickets
Create Date: 2026-11-22

Written by hand; portable across SQLite and PostgreSQL (JSON, timezone-aware
DateTime stored as UTC). ``plan_id`` has no foreign key here: the plans table
arrives in 0004_plans. Constraint names follow api.database.NAMING_CONVENTION.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_appointments"
down_revision = "0002_tickets"
branch_labels = None
depends_on = None


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("entitlement_id", sa.Integer(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("address", sa.String(500), nullable=True),
        sa.Column("geocoded_address", sa.String(500), nullable=True),
        sa.Column("duration_min", sa.Float(), nullable=False),
        sa.Column("required_skills", sa.JSON(), nullable=False),
        sa.Column("windows", sa.JSON(), nullable=False),
        sa.Column("window_start", _tz(), nullable=True),
        sa.Column("window_end", _tz(), nullable=True),
        sa.Column("sla_due", _tz(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("territory", sa.String(100), nullable=True),
        sa.Column("demand", sa.Float(), nullable=False, server_default="0"),
        sa.Column("pinned_technician_id", sa.Integer(), nullable=True),
        sa.Column("preferred_technician_ids", sa.JSON(), nullable=False),
        sa.Column("excluded_technician_ids", sa.JSON(), nullable=False),
        sa.Column("external_ref", sa.String(100), nullable=True),
        sa.Column("status", sa.String(20), nullable=False, server_default="unscheduled"),
        sa.Column("technician_id", sa.Integer(), nullable=True),
        sa.Column("scheduled_start", _tz(), nullable=True),
        sa.Column("scheduled_end", _tz(), nullable=True),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("completion_notes", sa.Text(), nullable=True),
        sa.Column("cannot_complete_reason", sa.Text(), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("status_changed_at", _tz(), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", _tz(), nullable=False),
        sa.Column("updated_at", _tz(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_appointments"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="RESTRICT",
                                name="fk_appointments_ticket_id_tickets"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="RESTRICT",
                                name="fk_appointments_customer_id_customers"),
        sa.ForeignKeyConstraint(["entitlement_id"], ["entitlements.id"], ondelete="RESTRICT",
                                name="fk_appointments_entitlement_id_entitlements"),
        sa.ForeignKeyConstraint(["pinned_technician_id"], ["technicians.id"],
                                ondelete="SET NULL",
                                name="fk_appointments_pinned_technician_id_technicians"),
        sa.ForeignKeyConstraint(["technician_id"], ["technicians.id"], ondelete="RESTRICT",
                                name="fk_appointments_technician_id_technicians"),
        sa.CheckConstraint("priority BETWEEN 1 AND 5",
                           name="ck_appointments_priority_range"),
        sa.CheckConstraint("duration_min > 0", name="ck_appointments_duration_positive"),
        sa.CheckConstraint("demand >= 0", name="ck_appointments_demand_non_negative"),
        sa.CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180",
                           name="ck_appointments_coordinates_range"),
    )
    op.create_index("ix_appointments_ticket_id", "appointments", ["ticket_id"])
    op.create_index("ix_appointments_customer_id", "appointments", ["customer_id"])
    op.create_index("ix_appointments_priority", "appointments", ["priority"])
    op.create_index("ix_appointments_territory", "appointments", ["territory"])
    op.create_index("ix_appointments_external_ref", "appointments", ["external_ref"])
    op.create_index("ix_appointments_status", "appointments", ["status"])
    op.create_index("ix_appointments_plan_id", "appointments", ["plan_id"])
    op.create_index("ix_appointments_technician_start", "appointments",
                    ["technician_id", "scheduled_start"])
    op.create_index("ix_appointments_window_bounds", "appointments",
                    ["window_start", "window_end"])

    op.create_table(
        "geocode_cache",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("query", sa.String(500), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("display", sa.String(500), nullable=True),
        sa.Column("created_at", _tz(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_geocode_cache"),
        sa.UniqueConstraint("provider", "query", name="uq_geocode_cache_query"),
    )

    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("principal", sa.String(80), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("operation", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.JSON(), nullable=False),
        sa.Column("response_headers", sa.JSON(), nullable=False),
        sa.Column("created_at", _tz(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_idempotency_keys"),
        sa.UniqueConstraint("principal", "key", name="uq_idempotency_keys_key"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_table("geocode_cache")
    for name in ("window_bounds", "technician_start", "plan_id", "status", "external_ref",
                 "territory", "priority", "customer_id", "ticket_id"):
        op.drop_index(f"ix_appointments_{name}", table_name="appointments")
    op.drop_table("appointments")
