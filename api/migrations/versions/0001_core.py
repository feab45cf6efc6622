"""Core schema: users, API keys, customers, entitlements, technicians, shifts, events.

Revision ID: 0001_core
Revises:
Create Date: 2026-11-22

Written by hand; portable across SQLite and PostgreSQL (JSON, timezone-aware
DateTime stored as UTC). Constraint names follow api.database.NAMING_CONVENTION.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _stamps() -> list[sa.Column]:
    return [
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", _tz(), nullable=False),
        sa.Column("updated_at", _tz(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("contact", sa.String(200), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(50), nullable=True),
        sa.Column("address", sa.String(500), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
    )
    op.create_index("ix_customers_name", "customers", ["name"])

    op.create_table(
        "entitlements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("tier", sa.String(30), nullable=False, server_default="standard"),
        sa.Column("products", sa.JSON(), nullable=False),
        sa.Column("valid_from", _tz(), nullable=False),
        sa.Column("valid_until", _tz(), nullable=True),
        sa.Column("onsite", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("coverage", sa.JSON(), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("min_skill_level", sa.Integer(), nullable=True),
        sa.Column("usage_cap", sa.Integer(), nullable=True),
        sa.Column("usage_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_entitlements"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="RESTRICT",
                                name="fk_entitlements_customer_id_customers"),
    )
    op.create_index("ix_entitlements_customer_id", "entitlements", ["customer_id"])

    op.create_table(
        "technicians",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(50), nullable=True),
        sa.Column("support_tier", sa.String(10), nullable=False, server_default="field"),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("home_lat", sa.Float(), nullable=False),
        sa.Column("home_lon", sa.Float(), nullable=False),
        sa.Column("territories", sa.JSON(), nullable=False),
        sa.Column("max_overtime_min", sa.Float(), nullable=False, server_default="0"),
        sa.Column("capacity", sa.Float(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_technicians"),
        sa.UniqueConstraint("email", name="uq_technicians_email"),
    )

    op.create_table(
        "shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=False),
        sa.Column("start", _tz(), nullable=False),
        sa.Column("end", _tz(), nullable=False),
        sa.Column("breaks", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="planned"),
        sa.Column("note", sa.String(500), nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_shifts"),
        sa.ForeignKeyConstraint(["technician_id"], ["technicians.id"], ondelete="CASCADE",
                                name="fk_shifts_technician_id_technicians"),
    )
    op.create_index("ix_shifts_technician_start", "shifts", ["technician_id", "start"])

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
        sa.ForeignKeyConstraint(["technician_id"], ["technicians.id"], ondelete="SET NULL",
                                name="fk_users_technician_id_technicians"),
    )
    op.create_index("ix_users_technician_id", "users", ["technician_id"])

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(128), nullable=False),
        sa.Column("role", sa.String(20), nullable=False, server_default="integration"),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", _tz(), nullable=False),
        sa.Column("revoked_at", _tz(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("prefix", name="uq_api_keys_prefix"),
    )

    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=False, autoincrement=True),
        sa.Column("at", _tz(), nullable=False),
        sa.Column("entity_type", sa.String(50), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_entity", "events", ["entity_type", "entity_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_events_entity", table_name="events")
    op.drop_table("events")
    op.drop_table("api_keys")
    op.drop_index("ix_users_technician_id", table_name="users")
    op.drop_table("users")
    op.drop_index("ix_shifts_technician_start", table_name="shifts")
    op.drop_table("shifts")
    op.drop_table("technicians")
    op.drop_index("ix_entitlements_customer_id", table_name="entitlements")
    op.drop_table("entitlements")
    op.drop_index("ix_customers_name", table_name="customers")
    op.drop_table("customers")
