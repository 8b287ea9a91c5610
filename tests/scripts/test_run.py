"""scripts/run.sh on a fresh clone: the port from the environment, one log format, and the README's admin step."""

import re
import shlex
import socket
import subprocess
import urllib.error
import urllib.parse

import pytest

from standins.servers import free_port, output_of, wait_for_http
from tests import ROOT
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
def served(tmp_path_factory):
    """Run `PORT=<a free port> bash scripts/run.sh` on a fresh clone; yield (clone, port, process)."""
    clone = make_clone(tmp_path_factory.mktemp("clone"))
    port = free_port()
    process = start_script(clone, "run.sh", PORT=str(port))
    wait_for_http(f"http://127.0.0.1:{port}/healthz", process, timeout=120)
    yield clone, port, process
    stop_script(process)


def readme_admin_command() -> str:
    """Return the admin step's command exactly as the README words it."""
    readme = (ROOT / "README.md").read_text()
    return re.search(r"`([^`]*manage\.py createsuperuser[^`]*)`", readme).group(1)


def test_run_serves_on_the_port_the_environment_names(served):
    _clone, port, process = served
    with browser().open(f"http://127.0.0.1:{port}/") as response:
        assert response.status == 200
    assert f"Listening on TCP address 127.0.0.1:{port}" in output_of(process)


def test_run_logs_each_line_once_in_one_format_without_http2_notice_or_favicon_404(served):
    _clone, port, process = served
    client = browser()
    for path in ("/", "/admin/login/"):
        client.open(f"http://127.0.0.1:{port}{path}").close()
    with client.open(f"http://127.0.0.1:{port}/favicon.ico") as icon:
        assert (icon.status, icon.headers["Content-Type"]) == (200, "image/svg+xml")
    with pytest.raises(urllib.error.HTTPError, match="404"):
        client.open(f"http://127.0.0.1:{port}/no-such-page")

    lines = server_log(process)
    assert [line for line in lines if not LOG_LINE.match(line)] == []
    assert len([line for line in lines if line.endswith("Not Found: /no-such-page")]) == 1
    assert any("INFO daphne.access: 127.0.0.1:" in line and '"GET /admin/login/" 200' in line for line in lines)
    assert not [line for line in lines if "HTTP/2" in line or "Not Found: /favicon.ico" in line]


def test_the_readme_admin_step_works_as_written_on_a_fresh_clone(served):
    clone, port, _process = served
    command = readme_admin_command()
    assignments = dict(word.split("=", 1) for word in shlex.split(command) if re.match(r"^[A-Z_]+=", word))

    result = subprocess.run(
        ["bash", "-c", command], cwd=clone, env=newcomer_environment(), capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    client = browser()
    with client.open(f"http://127.0.0.1:{port}/admin/login/") as login:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.read().decode()).group(1)
    form = {
        "csrfmiddlewaretoken": token,
        "username": assignments["DJANGO_SUPERUSER_EMAIL"],
        "password": assignments["DJANGO_SUPERUSER_PASSWORD"],
        "next": "/admin/",
    }
    with client.open(f"http://127.0.0.1:{port}/admin/login/", urllib.parse.urlencode(form).encode()) as admin:
        assert urllib.parse.urlparse(admin.url).path == "/admin/"
        assert "Site administration" in admin.read().decode()


def test_run_keeps_a_generated_secret_key_in_a_gitignored_env_file_and_never_prints_it(served):
    clone, _port, process = served
    env_file = (clone / ".env").read_text()
    secret_key = re.fullmatch(r"SECRET_KEY=(\S{50,})\n", env_file).group(1)
    assert (clone / ".env").stat().st_mode & 0o077 == 0  # readable by its owner only
    assert secret_key not in output_of(process)
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT)
    assert ignored.returncode == 0


def test_a_taken_port_stops_run_with_one_clear_line_before_anything_starts(tmp_path):
    clone = make_clone(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            ["bash", "scripts/run.sh"],
            cwd=clone,
            env=newcomer_environment(PORT=str(port)),
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        f"Port {port} is already in use: stop what listens there, or choose another with PORT=<port>."
    ]
    assert result.stdout == ""
    assert not (clone / "db.sqlite3").exists() and not (clone / ".env").exists()
