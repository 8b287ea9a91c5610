"""The site a browser test opens: Panels in a real Daphne, pointed at the provider simulator and the Stripe stand-in."""

import os
from pathlib import Path

from standins.servers import DaphneServer, provider_environment
from tests import ROOT

STRIPE_KEY = "sk_test_browser"
WEBHOOK_SECRET = "whsec_test_browser"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def start_server(simulator, stripe_standin, **overrides: str) -> DaphneServer:
    """Start Panels on the test database, with the simulated providers and the Stripe stand-in; wait until it serves."""
    env = {
        **provider_environment(simulator),
        "STRIPE_SECRET_KEY": STRIPE_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": stripe_standin.url,
        "LOG_LEVEL": "WARNING",  # nobody reads the server's output unless it fails to start
    }
    return DaphneServer(**{**env, **overrides})


def screenshot(page, name: str, tmp_path: Path) -> Path:
    """Take a screenshot of `page` into docs/screenshots/ with `PANELS_UPDATE_SCREENSHOTS=1`, else into `tmp_path`."""
    folder = ROOT / "docs" / "screenshots" if os.environ.get("PANELS_UPDATE_SCREENSHOTS") else tmp_path
    path = folder / name
    page.screenshot(path=path)
    return path
