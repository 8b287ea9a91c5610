"""The permessage-deflate terms panels/serve.py answers a client's offer with (a real Daphne: tests/e2e)."""

from autobahn.websocket.compress import PerMessageDeflate, PerMessageDeflateOffer

from panels.serve import COMPRESS_MEMORY_LEVEL, COMPRESS_WINDOW_BITS, INFLATE_WINDOW_BITS, accept_deflate


def negotiated(offer_params: dict) -> tuple[str, PerMessageDeflate]:
    """Return the extension header the server answers `offer_params` with, and the server's compressor."""
    accept = accept_deflate([PerMessageDeflateOffer.parse(offer_params)])
    return accept.get_extension_string(), PerMessageDeflate.create_from_offer_accept(True, accept)


def test_a_browser_s_offer_is_accepted_with_small_windows_and_context_kept():
    header, deflate = negotiated({"client_max_window_bits": [True]})  # what Chromium and Firefox send
    assert header == f"permessage-deflate; client_max_window_bits={INFLATE_WINDOW_BITS}"
    assert (deflate.server_no_context_takeover, deflate.client_no_context_takeover) == (False, False)
    assert deflate.server_max_window_bits == COMPRESS_WINDOW_BITS
    assert deflate.client_max_window_bits == INFLATE_WINDOW_BITS
    assert deflate.mem_level == COMPRESS_MEMORY_LEVEL


def test_a_client_capping_the_server_s_window_below_ours_is_obeyed():
    header, deflate = negotiated({"server_max_window_bits": ["9"], "server_no_context_takeover": [True]})
    assert header == "permessage-deflate; server_no_context_takeover; server_max_window_bits=9"
    assert (deflate.server_max_window_bits, deflate.server_no_context_takeover) == (9, True)
    assert deflate.client_max_window_bits == 15  # it did not let us choose its own window


def test_a_handshake_without_a_deflate_offer_gets_plain_frames():
    assert accept_deflate([]) is None
