// A reply's speed, in one place: output tokens per second between its first token and its last.
//
// The clock starts at the first token, so the gaps between tokens are one fewer than the tokens; it stops at the
// last token, not when the call ended (a stop or a cut may come later, and waiting for the model to think is
// shown apart as the time to first token).

/** Return output tokens per second ("29.4", or "128" from 100 up), or null when there is nothing to measure. */
export function tokensPerSecond({ output_tokens: tokens, streaming_ms: streaming }) {
  if (!tokens || tokens < 2 || !streaming) return null;
  const rate = (tokens - 1) / (streaming / 1000);
  return rate >= 100 ? String(Math.round(rate)) : rate.toFixed(1);
}
