"""scripts/demo.sh on a fresh clone: Panels and both stand-ins on ports from the environment, one log format."""

import socket
import subprocess
import urllib.request

import pytest

from standins.servers import free_port, output_of, port_open, wait_for_http
from tests.scripts.clones import (
    LOG_LINE,
    browser,
    make_clone,
    newcomer_environment,
    server_log,
    start_script,
    stop_script,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Run demo.sh on a fresh clone with PORT, SIMULATOR_PORT and STRIPE_STANDIN_PORT free ports of ours."""
    clone = make_clone(tmp_path_factory.mktemp("clone"))
    ports = {"PORT": free_port(), "SIMULATOR_PORT": free_port(), "STRIPE_STANDIN_PORT": free_port()}
    process = start_script(clone, "demo.sh", **{name: str(port) for name, port in ports.items()})
    wait_for_http(f"http://127.0.0.1:{ports['PORT']}/healthz", process, timeout=120)
    yield ports, process
    stop_script(process)
    assert not any(port_open(port) for port in ports.values())  # Ctrl-C stops the stand-ins too


def test_demo_serves_panels_and_its_stand_ins_on_the_ports_the_environment_names(demo):
    ports, process = demo
    with browser().open(f"http://127.0.0.1:{ports['PORT']}/") as page:
        assert page.status == 200
    models = urllib.request.Request(
        f"http://127.0.0.1:{ports['SIMULATOR_PORT']}/v1/models", headers={"Authorization": "Bearer simulated"}
    )
    with urllib.request.urlopen(models, timeout=5) as answer:  # noqa: S310 (loopback)
        assert answer.status == 200
    assert port_open(ports["STRIPE_STANDIN_PORT"])
    webhook = f"http://127.0.0.1:{ports['PORT']}/billing/stripe/webhook/"
    assert f"Paying sends signed webhooks to {webhook}" in output_of(process)


def test_demo_logs_each_line_once_in_one_format_without_http2_notice_or_favicon_404(demo):
    ports, process = demo
    client = browser()
    client.open(f"http://127.0.0.1:{ports['PORT']}/").close()
    with client.open(f"http://127.0.0.1:{ports['PORT']}/favicon.ico") as icon:
        assert icon.status == 200

    lines = server_log(process)
    # The stand-ins print their banners as they start, possibly after the server's first line.
    banners = ("Provider simulator", "Stripe stand-in", "Run the app", "Paying sends", "Put [[sim:", "  ", "(every")
    assert [line for line in lines if not LOG_LINE.match(line) and not line.startswith(banners)] == []
    assert len(lines) == len(set(lines))
    assert not [line for line in lines if "HTTP/2" in line or "Not Found: /favicon.ico" in line]


def test_a_taken_simulator_port_stops_the_demo_with_one_clear_line_before_anything_starts(tmp_path):
    clone = make_clone(tmp_path)
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        simulator_port = taken.getsockname()[1]
        result = subprocess.run(
            ["bash", "scripts/demo.sh"],
            cwd=clone,
            env=newcomer_environment(PORT=str(port), SIMULATOR_PORT=str(simulator_port)),
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        f"Port {simulator_port} is already in use: stop what listens there, or choose another with "
        "SIMULATOR_PORT=<port>."
    ]
    assert not port_open(port) and not (clone / "db.sqlite3").exists()
