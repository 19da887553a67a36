"""Hotline kb."""
