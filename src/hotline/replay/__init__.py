"""Replay, the third driver: recorded contacts brought back through the real routing engine.

DESIGN.md's drivers, one package each: :mod:`hotline.live` (the server, on the wall clock),
:mod:`hotline.sim` (the digital twin, on a virtual clock) and this one. See
:mod:`hotline.replay.driver`.
"""
