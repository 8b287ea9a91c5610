"""Conversations, turns, messages and the model catalog (built by the catalog and chat issues)."""
