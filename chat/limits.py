"""How much a person may send at once; shared by the websocket protocol, the JSON API and the services.

Plain constants with no imports, so the server can read them before Django is set up (panels/serve.py).
"""

MAX_CONTENT_CHARS = 400_000  # a prompt or a system prompt: room for a long pasted document
