"""The W2 plot: delivery latency (p50 and p99) against offered deliveries/s, every target of a sitting.

``bench/run.py`` draws it at the end of a sitting; to redraw it from a stored result::

    .venv/bin/python bench/w2plot.py bench/results/<timestamp>.json [--out bench/w2_latency.png]

One line per target (ours in both configurations, the ceiling, the peers), from the median
round of its W2 search: a filled marker for a step that passed, a hollow one for the step
that ended the search (loss, an error, or p99 over the limit).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

STYLE = {
    # key: (colour, marker, line style)
    "embedded": ("#1f77b4", "o", "-"),
    "redis-pg": ("#2ca02c", "s", "-"),
    "ceiling": ("#555555", "D", "--"),
    "socketio": ("#ff7f0e", "^", "-."),
    "channels": ("#d62728", "v", ":"),
}


def plot_w2(report: dict[str, Any], out: Path, limit_ms: float = 250.0) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from run import median_round, w2_targets

    fig, axes = plt.subplots(1, 2, figsize=(13, 5.6), sharex=True, constrained_layout=True)
    handles = []
    for key, label, rounds in w2_targets(report):
        w2 = median_round(rounds) or {}
        steps = [s for s in w2.get("steps") or [] if s.get("latency", {}).get("p99_ms") is not None]
        if not steps:
            continue
        colour, marker, line = STYLE.get(key, ("#9467bd", "x", "-"))
        best = w2.get("max_sustained_deliveries_per_s")
        name = f"{label}: {best:,.0f}/s sustained" if isinstance(best, (int, float)) else label
        for ax, q in zip(axes, ("p50_ms", "p99_ms"), strict=True):
            xs = [s["offered_deliveries_per_s"] for s in steps]
            ys = [max(s["latency"][q], 0.1) for s in steps]
            ax.plot(xs, ys, line, color=colour, linewidth=1.6, alpha=0.9)
            ok = [(x, y) for x, y, s in zip(xs, ys, steps, strict=True) if s.get("ok")]
            bad = [(x, y) for x, y, s in zip(xs, ys, steps, strict=True) if not s.get("ok")]
            if ok:
                ax.plot(*zip(*ok, strict=True), marker, color=colour, markersize=6)
            if bad:
                ax.plot(*zip(*bad, strict=True), marker, markerfacecolor="white", color=colour, markersize=8, mew=1.8)
        handles.append(Line2D([], [], color=colour, marker=marker, linestyle=line, label=name))
    for ax, title, note in zip(
        axes, ("p50 latency", "p99 latency"), ("W2's limit (it applies to p99)", "the W2 limit on p99"), strict=True
    ):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("offered deliveries/s (10 rooms × 50 sockets, 5 senders per room)")
        ax.set_ylabel("send → receipt (ms)")
        ax.set_title(title)
        ax.grid(True, which="major", alpha=0.35)
        ax.grid(True, which="minor", alpha=0.12)
        ax.axhline(limit_ms, color="black", linewidth=1.0, linestyle=(0, (4, 3)), alpha=0.7)
        ax.annotate(
            f"{limit_ms:g} ms: {note}",
            xy=(0.02, limit_ms),
            xycoords=("axes fraction", "data"),
            xytext=(0, 4),
            textcoords="offset points",
            fontsize=8,
        )
        ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    handles.append(
        Line2D([], [], color="black", marker="o", markerfacecolor="white", linestyle="", label="step that failed")
    )
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=9, frameon=False)
    rounds_n = max((len(r) for _, _, r in w2_targets(report)), default=0)
    fig.suptitle(
        f"W2 saturation, sitting {report.get('started')} "
        f"({'--quick' if report.get('quick') else 'full'}, median of {rounds_n} round(s); 2 shared cores)",
        fontsize=11,
    )
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("result", type=Path, help="a result JSON written by bench/run.py")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "w2_latency.png")
    args = parser.parse_args()
    print(plot_w2(json.loads(args.result.read_text()), args.out))


if __name__ == "__main__":
    main()
