"""Tickets: tickets, SLA clocks, the priority matrix and tier limits (seeded with defaults).

Revision ID: 0002_tickets
Revises: 0001_core
Create Date: 2026-11-22

Written by hand; portable across SQLite and PostgreSQL. The seeded matrix is
ServiceNow's 3x3 -> P1..P5 and the tier limits are L1 15, L2 60, L3 240
business minutes (L4, the vendor, has none); both are admin-editable rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_tickets"
down_revision = "0001_core"
branch_labels = None
depends_on = None

# Frozen copies of the defaults at the time of this revision (never import app code here).
_MATRIX = {
    (1, 1): 1, (1, 2): 2, (1, 3): 3,
    (2, 1): 2, (2, 2): 3, (2, 3): 4,
    (3, 1): 3, (3, 2): 4, (3, 3): 5,
}  # fmt: skip
_TIER_LIMITS = {"L1": 15.0, "L2": 60.0, "L3": 240.0, "L4": None}


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_type", sa.String(30), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("asset", sa.String(200), nullable=True),
        sa.Column("summary", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("impact", sa.Integer(), nullable=False),
        sa.Column("urgency", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("priority_overridden", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("priority_override_reason", sa.String(500), nullable=True),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("tier", sa.String(2), nullable=False, server_default="L1"),
        sa.Column("tier_entered_at", _tz(), nullable=False),
        sa.Column("tier_paused_min", sa.Float(), nullable=False, server_default="0"),
        sa.Column("on_hold_since", _tz(), nullable=True),
        sa.Column("needs_onsite", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("entitlement_id", sa.Integer(), nullable=True),
        sa.Column("entitlement_status", sa.String(20), nullable=False),
        sa.Column("entitlement_message", sa.String(500), nullable=True),
        sa.Column("sla_policy", sa.JSON(), nullable=False),
        sa.Column("reopen_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("escalation_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("received_at", _tz(), nullable=False),
        sa.Column("created_at", _tz(), nullable=False),
        sa.Column("updated_at", _tz(), nullable=False),
        *(
            sa.Column(f"{milestone}_at", _tz(), nullable=True)
            for milestone in (
                "validated", "recorded", "screened", "prioritised", "assigned", "escalated",
                "first_response", "resolved", "closed", "cancelled",
            )  # fmt: skip
        ),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.PrimaryKeyConstraint("id", name="pk_tickets"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], ondelete="RESTRICT",
            name="fk_tickets_customer_id_customers",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], ondelete="SET NULL",
            name="fk_tickets_assignee_id_users",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["entitlement_id"], ["entitlements.id"], ondelete="SET NULL",
            name="fk_tickets_entitlement_id_entitlements",
        ),  # fmt: skip
        sa.CheckConstraint("impact BETWEEN 1 AND 3", name="ck_tickets_impact_range"),
        sa.CheckConstraint("urgency BETWEEN 1 AND 3", name="ck_tickets_urgency_range"),
        sa.CheckConstraint("priority BETWEEN 1 AND 5", name="ck_tickets_priority_range"),
    )
    for column in (
        "request_type", "channel", "customer_id", "product", "priority", "status", "tier",
        "assignee_id", "entitlement_id", "received_at",
    ):  # fmt: skip
        op.create_index(f"ix_tickets_{column}", "tickets", [column])

    op.create_table(
        "sla_clocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("started_at", _tz(), nullable=False),
        sa.Column("target_min", sa.Float(), nullable=False),
        sa.Column("due_at", _tz(), nullable=False),
        sa.Column("paused_total_min", sa.Float(), nullable=False, server_default="0"),
        sa.Column("paused_since", _tz(), nullable=True),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("met_at", _tz(), nullable=True),
        sa.Column("warned_50_at", _tz(), nullable=True),
        sa.Column("warned_75_at", _tz(), nullable=True),
        sa.Column("breached_at", _tz(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sla_clocks"),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], ondelete="CASCADE",
            name="fk_sla_clocks_ticket_id_tickets",
        ),  # fmt: skip
        sa.UniqueConstraint("ticket_id", "kind", name="uq_sla_clocks_ticket_kind"),
    )
    op.create_index("ix_sla_clocks_ticket_id", "sla_clocks", ["ticket_id"])
    op.create_index("ix_sla_clocks_due_at", "sla_clocks", ["due_at"])
    op.create_index("ix_sla_clocks_stage", "sla_clocks", ["stage"])

    matrix = op.create_table(
        "priority_matrix",
        sa.Column("impact", sa.Integer(), nullable=False),
        sa.Column("urgency", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("updated_by", sa.String(120), nullable=False, server_default="migration"),
        sa.Column("updated_at", _tz(), nullable=False, server_default=sa.func.current_timestamp()),
        sa.PrimaryKeyConstraint("impact", "urgency", name="pk_priority_matrix"),
        sa.CheckConstraint("priority BETWEEN 1 AND 5", name="ck_priority_matrix_priority_range"),
    )
    op.bulk_insert(
        matrix,
        [{"impact": i, "urgency": u, "priority": p} for (i, u), p in sorted(_MATRIX.items())],
    )

    limits = op.create_table(
        "tier_limits",
        sa.Column("tier", sa.String(2), nullable=False),
        sa.Column("limit_min", sa.Float(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("updated_by", sa.String(120), nullable=False, server_default="migration"),
        sa.Column("updated_at", _tz(), nullable=False, server_default=sa.func.current_timestamp()),
        sa.PrimaryKeyConstraint("tier", name="pk_tier_limits"),
    )
    op.bulk_insert(
        limits, [{"tier": tier, "limit_min": limit} for tier, limit in _TIER_LIMITS.items()]
    )


def downgrade() -> None:
    op.drop_table("tier_limits")
    op.drop_table("priority_matrix")
    op.drop_index("ix_sla_clocks_stage", table_name="sla_clocks")
    op.drop_index("ix_sla_clocks_due_at", table_name="sla_clocks")
    op.drop_index("ix_sla_clocks_ticket_id", table_name="sla_clocks")
    op.drop_table("sla_clocks")
    for column in (
        "request_type", "channel", "customer_id", "product", "priority", "status", "tier",
        "assignee_id", "entitlement_id", "received_at",
    ):  # fmt: skip
        op.drop_index(f"ix_tickets_{column}", table_name="tickets")
    op.drop_table("tickets")
