"""The live driver: the routing engine on the wall clock, its event log, wallboard, demo traffic."""
