"""Hotline crm."""
