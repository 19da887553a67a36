"""Hotline wfm."""
