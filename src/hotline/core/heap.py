"""Garbage collection in a long-running server: start-up's objects stay out of full scans.

CPython's cyclic garbage collector stops every thread while it scans (it holds the GIL), and a
full collection (generation 2) scans every container object the process holds. A web server
leaves about 420,000 of them behind when it has started — the modules of FastAPI,
SQLAlchemy, pydantic, polars, pandas, scipy, statsmodels and the app itself — and they live as
long as the process. Each full collection rescans them all for nothing: measured inside
``hotline serve --sip`` under ``bench/sip_load.py --joined --quick``, one full collection
stopped both the SIP thread and the event loop for 150–220 ms. The voice server's overload
control (:mod:`hotline.telephony.overload`) rightly reads such a stall as a loop and SIP lag
over its 100 ms bounds and refuses the calls that arrive during it: the server refused calls
at 80 calls/s although its accepted calls set up in 12–20 ms. When the collection strikes
depends on how many objects start-up left (CPython starts a full collection once the objects
promoted since the last one reach a quarter of those that survived it), so a change in what
start-up loads moves the pause to another moment of the traffic.

:func:`freeze_startup_heap` collects once and then moves every surviving object to the
permanent generation (:func:`gc.freeze`), which the collector never scans; later full
collections look only at what the server made since. Objects freed by reference counting are
still freed; only a reference cycle among the frozen objects would never be reclaimed, which
is why it is called once, when start-up is done, not in a loop.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collect once, then freeze what survives; returns how many objects were frozen.

    Call it in a server process when start-up is done, right before it serves.

    >>> freeze_startup_heap() > 0, gc.get_freeze_count() > 0
    (True, True)
    >>> gc.unfreeze()  # (a doctest must not leave the test process frozen)
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
