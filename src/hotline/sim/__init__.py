"""Hotline sim."""
