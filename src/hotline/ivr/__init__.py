"""Hotline ivr."""
