"""Talking to models: catalog, provider adapters, conversations, the websocket consumer, routing."""
