"""The OpenAI-compatible API at /v1: programs call models with an API key, paid from the same wallet as the chat.

requests.py reads a Chat Completions body; calls.py admits a call (key, limits, model, hold) and settles it;
streaming.py runs it and shapes what goes back (responses.py: OpenAI's JSON, chunks and errors); views.py is
the HTTP edge and handler.py serves /v1 without the browser's middleware.
"""
