"""The first-line bot: knowledge answers, self-service lookups, handover to an agent."""
