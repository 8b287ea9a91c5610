"""Draw docs/relay_latency.png: what LiteLLM and Panels add to a stream, against streams at once.

Run by bench/relay.py with the benchmark venv's Python (matplotlib lives there, not in the app's
requirements): the points come as JSON on stdin, the PNG's path is the argument.
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main() -> None:
    """Plot each relay's added p50 to the first text and to the end, on a log scale of streams at once."""
    points = json.load(sys.stdin)
    figure, axes = plt.subplots(1, 2, figsize=(10, 4), sharex=True)
    for axis, key, title in ((axes[0], "first", "to first text"), (axes[1], "done", "to the end")):
        for way in sorted({p["way"] for p in points}):
            mine = sorted((p["count"], p[key]) for p in points if p["way"] == way)
            axis.plot([c for c, _ in mine], [v for _, v in mine], marker="o", label=way)
        axis.set_xscale("log")
        axis.set_yscale("log")  # tens of ms at one stream, tens of seconds at a thousand
        axis.set_xlabel("streams at once")
        axis.set_ylabel("added ms (p50, relay minus direct)")
        axis.set_title(f"Added time {title}")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(sys.argv[1], dpi=100)


if __name__ == "__main__":
    main()
