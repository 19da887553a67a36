"""Hotline config."""
