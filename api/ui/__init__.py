"""The staff web UI: server-rendered German pages over the same flows as the JSON API."""

from api.ui.pages import router

__all__ = ["router"]
