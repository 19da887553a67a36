"""The ``hotline`` command line: one Typer sub-app per capability (``cli/<group>.py``)."""
