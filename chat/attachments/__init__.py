"""Files attached to prompts: read and checked on upload, priced per model, sent in each provider's format."""
