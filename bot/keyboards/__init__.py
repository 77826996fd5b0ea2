"""Inline keyboards, one module per area; each builder is a pure function of its data."""
