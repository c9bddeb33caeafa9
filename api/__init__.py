"""The HTTP API and the staff web UI (FastAPI)."""
