"""Stand-ins for the outside services (AI providers, Stripe), for development and tests; the product never imports them.

Installed only for the management commands `simulate_providers` and `stripe_standin`. Beside them, the tools
that tests and benchmarks share (neither imports the other): `servers` starts Panels' servers and a Redis as
child processes, `races` releases threads at once, `files` makes images and PDFs to attach.
"""
