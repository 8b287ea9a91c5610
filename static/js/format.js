// How numbers read in the UI: whole credits with separators, and dollars by billing/formatting.py's rule.
const integer = new Intl.NumberFormat("en-US");

export const credits = (value) => integer.format(Math.round(value));

const CENT_PLACES = 2;
const SIGNIFICANT_DIGITS = 2;
const pow10 = (exponent) => 10n ** BigInt(exponent);
const digits = (value) => value.toString().length;

/** Return floor(log10(n / d)) for positive BigInts: it is the digit-count difference, or one less. */
function magnitude(n, d) {
  const e = digits(n) - digits(d);
  const reached = e >= 0 ? n >= d * pow10(e) : n * pow10(-e) >= d;
  return reached ? e : e - 1;
}

const decimalPlaces = (n, d) => (n === 0n ? CENT_PLACES : Math.max(CENT_PLACES, SIGNIFICANT_DIGITS - 1 - magnitude(n, d)));

/** Return the exact dollars n / d (BigInts, d > 0) as people read them; see usd(). */
function usdOfFraction(n, d) {
  const negative = n < 0n;
  const size = negative ? -n : n;
  let places = decimalPlaces(size, d);
  let scaled = (size * pow10(places)) / d;
  if (2n * ((size * pow10(places)) % d) >= d) scaled += 1n; // half up, away from zero
  // Rounding up can reach the next power of ten (0.0996 -> 0.100), which needs fewer decimals.
  const fewer = decimalPlaces(scaled, pow10(places));
  if (fewer < places) {
    scaled /= pow10(places - fewer);
    places = fewer;
  }
  const text = scaled.toString().padStart(places + 1, "0");
  const whole = text.slice(0, -places).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative && scaled > 0n ? "-" : ""}$${whole}.${text.slice(-places)}`;
}

/**
 * Return dollars by the one money rule (billing/formatting.py): at least two decimals, and as many more as
 * two significant digits need, rounded half up: "$1,234.50", "$0.50", "$0.097", "$0.000038", "$0.00".
 * `amount` is a decimal string as the API sends it ("0.0000375") or an integer: never a float, which would
 * no longer be the exact amount.
 */
export function usd(amount) {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(typeof amount === "string" ? amount.trim() : "");
  if (match) {
    const [, sign, whole, fraction = "", exponent = "0"] = match;
    const shift = Number(exponent) - fraction.length; // "1.5e-7" is 15 / 10^8
    const units = BigInt(`${sign}${whole}${fraction}`);
    return shift >= 0 ? usdOfFraction(units * pow10(shift), 1n) : usdOfFraction(units, pow10(-shift));
  }
  if (Number.isInteger(amount)) return usdOfFraction(BigInt(amount), 1n);
  throw new TypeError(`Not an exact amount of dollars: ${amount}`);
}

/** Return what `value` credits are worth, by the same rule, from the exact fraction (never a float). */
export const usdOfCredits = (value, creditsPerUsd) => usdOfFraction(BigInt(value), BigInt(creditsPerUsd));

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

/** Return a file's size as people read it: "532 bytes", "12.3 KB", "1.2 MB" (as the exports write it). */
export function fileSize(bytes) {
  if (bytes < 1024) return `${integer.format(bytes)} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
