"""Customers and their service contracts (entitlements)."""
