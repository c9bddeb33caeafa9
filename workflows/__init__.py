"""Temporal workflows: deterministic, no I/O, no personal data."""
