"""Outbound campaigns: lists of people to call, the rules that say when and whether, dialling."""
