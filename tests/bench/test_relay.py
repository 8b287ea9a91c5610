"""bench/relay.py writes only the sections of docs/benchmarks.md whose Panels way it measured.

A run of the API alone must leave the socket's table (and the goals written against it) as they were, and a
run that finds no section to write must say so before its rounds, not after them.
"""

from bench.relay import DOCS, PANELS_WAYS, SECTIONS, Sample, Turn, docs_with, missing_markers, rows_of

NOTE = "Measured in a test."


def turn_of(first_ms: float, done_ms: float) -> Turn:
    return Turn(samples=[Sample(first_ms, done_ms, wire_bytes=300, text_bytes=10)] * 20, cpu_seconds=0.4)


def section_of(text: str, way: str) -> str:
    section = SECTIONS[way]
    return text[text.index(section.start) : text.index(section.end)]


def outside_sections(text: str) -> str:
    for section in SECTIONS.values():
        text = text[: text.index(section.start)] + text[text.index(section.end) :]
    return text


def test_an_api_only_run_writes_its_section_and_leaves_the_socket_table_as_it_was():
    before = DOCS.read_text()
    rows = rows_of(
        {50: {"direct": [turn_of(80, 600)], "litellm": [turn_of(400, 1500)], "panels-http": [turn_of(500, 1700)]}}
    )

    after = docs_with(before, rows, NOTE)

    assert section_of(after, "panels") == section_of(before, "panels")
    assert outside_sections(after) == outside_sections(before)
    written = section_of(after, "panels-http")
    assert NOTE in written
    assert "| 50 | direct | 80.0 |" in written
    assert "| 50 | LiteLLM | 400.0 |" in written
    assert "| 50 | Panels /v1 | 500.0 | 500.0 | +420.0 | +420.0 | 1,700.0 |" in written
    assert "Panels socket" not in written


def test_a_run_of_both_ways_writes_each_section_with_its_own_panels_rows():
    ways = {way: [turn_of(100, 700)] for way in ("direct", "litellm", "panels", "panels-http")}

    after = docs_with(DOCS.read_text(), rows_of({1: ways}), NOTE)

    socket, api = section_of(after, "panels"), section_of(after, "panels-http")
    assert "| 1 | Panels socket |" in socket and "Panels /v1" not in socket
    assert "| 1 | Panels /v1 |" in api and "Panels socket" not in api
    assert all("| 1 | LiteLLM |" in section for section in (socket, api))


def test_the_docs_have_a_section_for_every_way_and_a_missing_marker_is_named():
    text = DOCS.read_text()
    assert missing_markers(text, PANELS_WAYS["both"]) == []

    without_end = text.replace(SECTIONS["panels-http"].end, "")

    assert missing_markers(without_end, PANELS_WAYS["http"]) == [SECTIONS["panels-http"].end]
    assert missing_markers(without_end, PANELS_WAYS["socket"]) == []
