"""Hotline web."""
