// How numbers read in the UI: whole credits with separators, dollars with enough digits to be non-zero.
const integer = new Intl.NumberFormat("en-US");

export const credits = (value) => integer.format(Math.round(value));

/** Return "$0.0188" for small amounts (3 significant digits) and "$12.50" from a cent up. */
export function usd(amount) {
  if (amount === 0) return "$0";
  if (amount >= 0.01) return `$${amount.toFixed(2)}`;
  const digits = Math.min(12, 2 - Math.floor(Math.log10(amount)));  // three significant digits, never "e-7"
  return `$${amount.toFixed(digits).replace(/0+$/, "")}`;
}

export const usdOfCredits = (value, creditsPerUsd) => usd(value / creditsPerUsd);

export function milliseconds(ms) {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

/** Return "128k" / "1M" for token counts such as context windows. */
export function tokensShort(count) {
  if (count >= 1_000_000) return `${+(count / 1_000_000).toFixed(2)}M`;
  if (count >= 1000) return `${Math.round(count / 1000)}k`;
  return String(count);
}

/** Return "2 min ago", "yesterday", or a date, for the sidebar. */
export function ago(iso) {
  const seconds = (Date.now() - Date.parse(iso)) / 1000;
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  if (seconds < 172800) return "yesterday";
  return new Date(iso).toLocaleDateString(undefined, { month: "short", day: "numeric" });
}
