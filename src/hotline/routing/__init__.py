"""Hotline routing: the ACD engine (pure) and its vocabulary.

Public surface for other domains and drivers::

    from hotline.routing.engine import RoutingEngine, Result
    from hotline.routing.model import (RoutingConfig, QueueConfig, AgentConfig, commands…,
                                       effects…)

See :mod:`hotline.routing.engine` for how decisions are made and an example.
"""
