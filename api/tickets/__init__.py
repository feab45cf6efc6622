"""Tickets domain: intake, lifecycle, priority, SLA clocks, tiers and escalation."""
