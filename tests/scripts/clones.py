"""A fresh clone of the working tree in a temporary folder, and the scripts started in it as a newcomer would.

A clone has no `.env` and no database of its own yet, so running a script there never touches the developer's
`db.sqlite3` or `.env`. It shares the installed `.venv` and `node_modules` (linked), so `setup.sh` finds
everything in place and takes a second or two.
"""

import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from standins.servers import output_of
from tests import ROOT

# Every line a Panels process logs: "2026-12-05 00:11:55,045 INFO daphne.server: Listening on ..."
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ [\w.]+: ")


def make_clone(folder: Path) -> Path:
    """Copy the working tree's files (tracked, and new ones git does not ignore) into `folder`."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if name in (".venv", "node_modules") or not source.is_file():
            continue
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
    for shared in (".venv", "node_modules"):
        (folder / shared).symlink_to((ROOT / shared).resolve())
    # setup.sh runs `npm ci` when package-lock.json is newer than node_modules; the copy is new, the linked
    # node_modules is the one installed for this lock file, and `npm ci` must never empty it.
    installed = (ROOT / "node_modules" / ".package-lock.json").stat().st_mtime
    os.utime(folder / "package-lock.json", (installed - 1, installed - 1))
    return folder


def newcomer_environment(**variables: str) -> dict[str, str]:
    """Return a shell's environment on a fresh machine: no DEBUG, SECRET_KEY or database, plus `variables`."""
    return {"PATH": os.environ["PATH"], "HOME": str(Path.home()), "PYTHONUNBUFFERED": "1", **variables}


def start_script(clone: Path, script: str, **variables: str) -> subprocess.Popen:
    """Start `bash scripts/<script>` in `clone`, in a process group of its own, its output in a temporary file."""
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by `stop_script`)
    process = subprocess.Popen(
        ["bash", f"scripts/{script}"],
        cwd=clone,
        env=newcomer_environment(**variables),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    process.log = log
    return process


def stop_script(process: subprocess.Popen) -> None:
    """Stop a started script and everything it started (its process group), as Ctrl-C would."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    process.log.close()


def server_log(process: subprocess.Popen) -> list[str]:
    """Return the lines the server printed from its start on (after setup and migrations), once they settle."""
    time.sleep(0.5)  # the access log line of the last request may trail its response
    lines = output_of(process).splitlines()
    start = next(i for i, line in enumerate(lines) if "Starting server at" in line)
    return lines[start:]


def browser() -> urllib.request.OpenerDirector:
    """Return an HTTP client that keeps cookies and follows redirects, as a browser does."""
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
