"""The files the soak's users attach to a send, and their upload over HTTP as the page's composer makes it.

An attached send carries a PNG (drawn with Pillow), sometimes a short .csv file and sometimes a PDF of more pages
than `ATTACHMENT_BACKGROUND_PAGES` (made with pypdf), which a Celery worker reads in the background. Its files
are uploaded (`POST /api/attachments/`, the session cookie its socket uses and a CSRF cookie and header pair of
its own) to a live Daphne, a PDF is polled (`GET /api/attachments/<id>/`) until it is read, and the send then
names them in `attachment_ids`. A connection lost to the killed Daphne is tried again on another; every answer
is counted, so the soak can check that none was a 500 or a 4xx, and that no live server dropped a connection.
"""

import asyncio
import random
import secrets
import time
from collections import Counter
from dataclasses import dataclass

import httpx2

from standins.files import pdf, png

ATTACH_PROBABILITY = 0.15  # a send attaches files
CSV_PROBABILITY = 0.35  # ... a .csv beside its PNG
PDF_PROBABILITY = 0.35  # ... a PDF read in the background
IMAGE_WIDTHS = (200, 1400)
IMAGE_HEIGHTS = (150, 1000)  # below 1568 px: kept at the size uploaded, so the simulator sees that size
PDF_PAGES = (11, 24)  # over ATTACHMENT_BACKGROUND_PAGES (10)
CSV_ROWS = (3, 25)
REQUEST_ATTEMPTS = 4  # a request whose connection a killed Daphne lost is tried again on another, this often
PDF_READ_WAIT = 180  # s; beat queues a reading lost with the killed worker again after two minutes
PDF_POLL_SECONDS = 1.0
HTTP_TIMEOUT = httpx2.Timeout(30, connect=5)
WORDS = ("tea", "river", "compiler", "bread", "tide", "opening", "ledger", "owl", "glacier", "harbour", "lantern")


@dataclass(frozen=True)
class FilePlan:
    """One file a send attaches, chosen with its user's seeded rng; its bytes are made when it is uploaded."""

    kind: str  # "image", "text" or "pdf": the server's names for them
    name: str
    width: int = 0
    height: int = 0
    colour: tuple[int, int, int] = (0, 0, 0)
    rows: int = 0
    pages: int = 0
    seed: int = 0

    def content(self) -> bytes:
        """Return the file's bytes (CPU work: run it off the event loop)."""
        if self.kind == "image":
            return png(self.width, self.height, self.colour)
        if self.kind == "text":
            return csv(self.rows, random.Random(self.seed))  # noqa: S311 (file contents, not secrets)
        return pdf(*(page_text(self.name, number) for number in range(1, self.pages + 1)))


def plan_files(rng: random.Random, label: str) -> list[FilePlan]:
    """Return the files of an attached send: a PNG, sometimes a .csv beside it, sometimes a long PDF."""
    files = [
        FilePlan(
            "image",
            f"{label}.png",
            width=rng.randint(*IMAGE_WIDTHS),
            height=rng.randint(*IMAGE_HEIGHTS),
            colour=(rng.randrange(256), rng.randrange(256), rng.randrange(256)),
        )
    ]
    if rng.random() < CSV_PROBABILITY:
        files.append(FilePlan("text", f"{label}.csv", rows=rng.randint(*CSV_ROWS), seed=rng.randrange(2**32)))
    if rng.random() < PDF_PROBABILITY:
        files.append(FilePlan("pdf", f"{label}.pdf", pages=rng.randint(*PDF_PAGES)))
    return files


def csv(rows: int, rng: random.Random) -> bytes:
    """Return a short CSV file: a header and `rows` rows of words and numbers."""
    lines = ["word,count,share"] + [
        f"{rng.choice(WORDS)},{rng.randint(1, 999)},{rng.randint(0, 100)}%" for _ in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def page_text(name: str, number: int) -> str:
    """Return the text shown on one page of a PDF (a line pypdf reads back)."""
    return f"{name} page {number}: notes on {WORDS[number % len(WORDS)]} and {WORDS[(number * 7) % len(WORDS)]}"


@dataclass
class Uploaded:
    """A file the server kept, as its upload answered (and, for a PDF, as the last poll saw it)."""

    plan: FilePlan
    id: str
    name: str
    width: int | None
    height: int | None
    status: str
    error: str
    uploaded_at: float
    read_after: float | None = None  # s from the upload until a poll saw it read (a PDF)

    @property
    def seen_line(self) -> str:
        """Return the line the provider simulator writes in a reply for this image."""
        return f"Seen: image {self.width}x{self.height} image/png"


class AttachmentTally:
    """What the uploads and polls counted during a run."""

    def __init__(self):
        self.uploads: Counter[str] = Counter()  # kind -> files kept (201)
        self.answers: Counter[str] = Counter()  # "POST 201", "GET 200", ...
        self.unexpected: list[str] = []  # any other answer, or a connection lost on a live server
        self.retries: Counter[str] = Counter()  # requests tried again, by what lost them
        self.dropped_plays = 0  # attached sends not sent: an upload failed every attempt
        self.pdfs: Counter[str] = Counter()  # how each PDF's wait ended: ready, failed, not read within the wait


class Composer:
    """One user's uploads, made as the page's composer makes them, on a live Daphne."""

    def __init__(self, servers: list, cookie: str, tally: AttachmentTally, rng: random.Random):
        self.servers, self.tally, self.rng = servers, tally, rng
        self.csrf_token = secrets.token_hex(16)  # the page's scripts send the cookie's value back as a header
        self.cookie = f"{cookie}; csrftoken={self.csrf_token}"

    async def request(
        self, client: httpx2.AsyncClient, method: str, path: str, prefer=None, **options
    ) -> httpx2.Response | None:
        """Send one request to `prefer` if it is up, else to a live server; try again on another if a kill lost it.

        Return the answer (counted), or None when every attempt lost its connection or answered 5xx.
        """
        for attempt in range(REQUEST_ATTEMPTS):
            live = [s for s in self.servers if s.up] or self.servers
            server = prefer if prefer is not None and prefer.up and attempt == 0 else self.rng.choice(live)
            life = server.life
            headers = {"Cookie": self.cookie, "X-CSRFToken": self.csrf_token, "Origin": server.daphne.url}
            try:
                response = await client.request(method, f"{server.daphne.url}{path}", headers=headers, **options)
            except httpx2.TransportError as error:
                if server.life == life and server.up:
                    self.tally.unexpected.append(
                        f"{method} {path} on {server.daphne.name}: {type(error).__name__} from a live server"
                    )
                else:
                    self.tally.retries[f"{method} lost with a killed server"] += 1
                await asyncio.sleep(1 + attempt)
                continue
            self.tally.answers[f"{method} {response.status_code}"] += 1
            if response.status_code >= 500:
                self.tally.unexpected.append(
                    f"{method} {path} on {server.daphne.name}: {response.status_code} {response.text[:200]!r}"
                )
                await asyncio.sleep(1 + attempt)
                continue
            return response
        return None

    async def upload(self, client: httpx2.AsyncClient, plan: FilePlan, prefer=None) -> Uploaded | None:
        """Upload one file; return it as kept, or None if it could not be (counted as unexpected)."""
        data = await asyncio.to_thread(plan.content)
        content_type = {"image": "image/png", "text": "text/csv", "pdf": "application/pdf"}[plan.kind]
        response = await self.request(
            client, "POST", "/api/attachments/", prefer, files={"file": (plan.name, data, content_type)}
        )
        if response is None:
            return None
        if response.status_code != 201:
            self.tally.unexpected.append(f"upload of {plan.name}: {response.status_code} {response.text[:200]!r}")
            return None
        body = response.json()
        self.tally.uploads[plan.kind] += 1
        return Uploaded(
            plan,
            body["id"],
            body["name"],
            body["width"],
            body["height"],
            body["status"],
            body["error"],
            uploaded_at=time.monotonic(),
        )

    async def wait_until_read(self, client: httpx2.AsyncClient, uploaded: Uploaded, deadline: float) -> None:
        """Poll a PDF being read in the background until it is ready or failed, or until `deadline`."""
        while uploaded.status == "reading" and time.monotonic() < deadline:
            await asyncio.sleep(PDF_POLL_SECONDS)
            response = await self.request(client, "GET", f"/api/attachments/{uploaded.id}/")
            if response is None:
                continue
            if response.status_code != 200:
                self.tally.unexpected.append(f"poll of {uploaded.name}: {response.status_code} {response.text[:200]!r}")
                break
            body = response.json()
            uploaded.status, uploaded.error = body["status"], body["error"]
        if uploaded.status != "reading":
            uploaded.read_after = time.monotonic() - uploaded.uploaded_at
        self.tally.pdfs[uploaded.status if uploaded.status != "reading" else "not read within the wait"] += 1
