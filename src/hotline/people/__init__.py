"""People management: team scorecards, agent grading and the agent's own figures."""
