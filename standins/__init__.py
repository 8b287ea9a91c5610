"""Stand-ins for the outside services (AI providers, Stripe), for development and tests; the product never imports them.

Installed only for the management commands `simulate_providers` and `stripe_standin`.
"""
