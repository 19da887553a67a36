"""Hotline tickets."""
