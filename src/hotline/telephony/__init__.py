"""Hotline telephony."""
