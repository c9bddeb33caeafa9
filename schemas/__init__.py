"""Models shared across layers (workflow inputs, case state)."""
