"""Users, API keys, tokens and the per-route role checks."""
