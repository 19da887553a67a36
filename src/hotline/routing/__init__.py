"""Hotline routing."""
