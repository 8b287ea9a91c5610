"""Provider adapters: one interface (base.py), one module per wire format, and the registry."""
