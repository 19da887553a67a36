"""Hotline store."""
