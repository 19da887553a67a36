"""Hotline: an open-source contact-center platform (呼叫中心一站式服务平台)."""

from hotline.compiled import install_guard

__version__ = "0.1.0"

# Before anything imports the routing engine: a compiled build older than its source must
# not run (see hotline.compiled).
install_guard()
