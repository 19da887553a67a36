"""Hotline metrics."""
