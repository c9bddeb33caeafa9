"""The `bleibe` command."""
