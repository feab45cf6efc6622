"""Dispatch: slot offering and booking, a technician's day route, field status updates."""
