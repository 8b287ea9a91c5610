"""Serve the wire-level provider simulator, so Panels can be run and demoed with no real provider."""

import asyncio

from django.core.management.base import BaseCommand

from standins.providers import DEFAULT_REPLY_TOKENS, ProviderSimulator


class Command(BaseCommand):
    help = "Serve fake OpenAI- and Anthropic-format APIs (see standins/providers.py for the fault directives)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=9100)
        parser.add_argument("--tokens-per-second", type=float, default=30, help="0 sends as fast as possible")
        parser.add_argument("--reply-tokens", type=int, default=DEFAULT_REPLY_TOKENS)
        parser.add_argument("--first-token-ms", type=int, default=300)

    def handle(self, *args, **options):
        simulator = ProviderSimulator(
            host=options["host"],
            port=options["port"],
            tokens_per_second=options["tokens_per_second"],
            reply_tokens=options["reply_tokens"],
            first_token_ms=options["first_token_ms"],
        )
        try:
            asyncio.run(self.serve(simulator))
        except KeyboardInterrupt:
            self.stdout.write("Simulator stopped.")

    async def serve(self, simulator: ProviderSimulator) -> None:
        await simulator.start()
        openai_url = simulator.base_url_openai
        self.stdout.write(
            f"Provider simulator listening on {simulator.base_url}. Point Panels at it with any key:\n"
            f"  OPENAI_BASE_URL={openai_url}\n"
            f"  ANTHROPIC_BASE_URL={simulator.base_url_anthropic}\n"
            f"  GEMINI_BASE_URL={openai_url}\n"
            f"  MISTRAL_BASE_URL={openai_url}\n"
            "(every OpenAI-compatible provider can use the OpenAI URL; a key of 'sim-bad-key' gets a 401)\n"
            "Put [[sim:...]] directives in a message to inject faults, e.g. [[sim:status=429,retry_after=7]]."
        )
        await simulator.serve_forever()
