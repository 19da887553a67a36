"""Hotline: an open-source contact-center platform (呼叫中心一站式服务平台)."""

__version__ = "0.1.0"
