"""Development and test stand-ins for the outside services: the AI providers and Stripe. Never used in production."""
