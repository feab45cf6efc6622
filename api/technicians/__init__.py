"""Technicians, their skills and territories, and their shifts with breaks."""
