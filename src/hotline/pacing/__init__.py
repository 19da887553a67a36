"""Hotline pacing: how many outbound calls a campaign places, under a hard abandon cap (pure).

Public surface for the diallers (the live SIP dialler, the simulator)::

    from hotline.pacing.state import DialerState, CallResult, Outcome, AbandonCap,
                                     PlaySafeMessage, ReleaseAgent, ABANDON_AFTER_S
    from hotline.pacing.budget import (calls_allowed, may_release, releases,
                                       wait_expired, within_cap)
    from hotline.pacing.pacers import Pacer, ProgressivePacer, PredictivePacer
    from hotline.pacing.adaptive import AdaptivePacer   # VICIdial's method, the peer

How a dialler uses a pacer (the loop the simulator runs, ``hotline.sim.outbound``)::

    pacer = PredictivePacer(cap=AbandonCap(3))
    # after every change (a call answered or given up, an agent free or busy) and at
    # pacer.next_decision_at(now), if that is not None:
    for _ in range(pacer.calls_to_place(state)):     # state: a DialerState of this campaign
        place_a_call()
    # every result, as it happens:
    pacer.on_result(CallResult(at=now, outcome=Outcome.ANSWERED, ring_s=9.5))

The dialler's own three rules make the guarantee of :mod:`hotline.pacing.budget` hold
(abandoned ≤ 3 % of live answers, per campaign per day, whatever the forecast):

1. place no more calls than ``calls_to_place`` returns;
2. connect an answered call to a free agent at once; one not connected within
   ``ABANDON_AFTER_S`` (2 s) is abandoned: ``wait_expired(state, call_id)`` gives the
   ``PlaySafeMessage`` effect to carry out (play the safe message, hang up); report
   ``Outcome.ABANDONED``;
3. when the pacer ``defers_release``, a *free* agent's not-ready, break, logout or move to
   inbound work takes effect only when ``may_release(state, cap)`` is true —
   ``releases(state, cap, pending)`` gives the ``ReleaseAgent`` effects due now (ask again
   after every change); until then the agent still takes the campaign's answered calls.

Counts in ``DialerState`` are per campaign and per day: start a new pacer each day.
"""
