"""Core vocabulary shared by every layer: ids, clocks, events, errors and settings."""
