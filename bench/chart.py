#!/usr/bin/env python3
"""SVG charts for the bench scripts, standard library only; the SVG is self-contained (no
script, no external reference) so any browser opens it.

    chart.py incentives CSV OUT.svg [--title T]
        CSV of bench/incentives.sh (choker,run,peer,class,upload_rate,completion_s,completed):
        completion time of every peer and run, grouped by upload class (fastest first, free
        riders last), the two chokers side by side, a bar at each median; a peer that did not
        complete is a hollow dot at the timeout.
    chart.py lines CSV OUT.svg [--title T] [--x LABEL] [--y LABEL]
        CSV of three columns x,series,y under any header (bench/p2p.sh: n,series,seconds): one line per series, in order of first
        appearance; a series whose name contains "bound" is dashed.

It draws what the CSV says and computes nothing but medians and axis ticks.
"""

import csv
import math
import statistics
import sys
from xml.sax.saxutils import escape

COLOURS = ["#1f5fa8", "#d9761c", "#2e8b57", "#b03a48", "#6a4c93", "#555555"]


def nice_ticks(top, count=6):
    """Round tick values from 0 to at least top."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    step = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * step:
            step *= m
            break
    ticks = []
    v = 0.0
    while v < top + step * 0.999:
        ticks.append(round(v, 6))
        v += step
    return ticks


def header(width, height, title):
    return [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{width / 2:.0f}" y="22" text-anchor="middle" font-weight="bold" font-size="14">'
        f"{escape(title)}</text>",
    ]


def y_axis(out, left, top, bottom, right, top_value, label):
    ticks = nice_ticks(top_value)
    scale = (bottom - top) / ticks[-1]
    for t in ticks:
        y = bottom - t * scale
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{t:g}</text>')
    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#333"/>')
    out.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#333"/>')
    mid = (top + bottom) / 2
    out.append(
        f'<text x="16" y="{mid:.0f}" text-anchor="middle" transform="rotate(-90 16 {mid:.0f})">'
        f"{escape(label)}</text>"
    )
    return lambda v: bottom - v * scale


def class_key(name, rates):
    if name == "free rider":
        return (1, 0)
    return (0, -rates.get(name, 0))


def incentives(rows, title):
    chokers = []
    for r in rows:
        if r["choker"] not in chokers:
            chokers.append(r["choker"])
    rates = {r["class"]: int(r["upload_rate"]) for r in rows}
    classes = sorted(rates, key=lambda c: class_key(c, rates))
    group_w, left, top, bottom = 70 * len(chokers) + 40, 70, 60, 380
    width = left + group_w * len(classes) + 30
    height = bottom + 80
    out = header(width, height, title)
    top_value = max(float(r["completion_s"]) for r in rows)
    y = y_axis(out, left, top, bottom, width - 20, top_value, "completion time (s)")
    for g, cls in enumerate(classes):
        x0 = left + g * group_w + 20
        label = cls if cls == "free rider" else f"upload {cls}"
        out.append(
            f'<text x="{x0 + (group_w - 40) / 2:.0f}" y="{bottom + 20}" text-anchor="middle" '
            f'font-weight="bold">{escape(label)}</text>'
        )
        for c, choker in enumerate(chokers):
            colour = COLOURS[c % len(COLOURS)]
            cx = x0 + c * 70 + 35
            points = [r for r in rows if r["class"] == cls and r["choker"] == choker]
            for i, r in enumerate(points):
                jitter = ((i * 7) % 11 - 5) * 3
                v = float(r["completion_s"])
                fill = colour if r["completed"] == "yes" else "none"
                out.append(
                    f'<circle class="point" cx="{cx + jitter}" cy="{y(v):.1f}" r="3.5" fill="{fill}" '
                    f'stroke="{colour}" fill-opacity="0.7"><title>{escape(r["peer"])} run {r["run"]}, '
                    f"{escape(choker)}: {v:.2f} s</title></circle>"
                )
            if points:
                m = statistics.median(float(r["completion_s"]) for r in points)
                out.append(
                    f'<line class="median" x1="{cx - 24}" y1="{y(m):.1f}" x2="{cx + 24}" y2="{y(m):.1f}" '
                    f'stroke="{colour}" stroke-width="3"><title>median {m:.2f} s</title></line>'
                )
                out.append(
                    f'<text x="{cx + 26}" y="{y(m) + 4:.1f}" font-size="10" fill="{colour}">{m:.1f}</text>'
                )
    for c, choker in enumerate(chokers):
        colour = COLOURS[c % len(COLOURS)]
        lx = left + c * 160
        out.append(f'<circle cx="{lx + 6}" cy="{bottom + 48}" r="5" fill="{colour}"/>')
        out.append(f'<text x="{lx + 16}" y="{bottom + 52}">--choking {escape(choker)}</text>')
    out.append(
        f'<text x="{left + 160 * len(chokers)}" y="{bottom + 52}" fill="#555">'
        "dot: one peer in one run; bar: median; hollow: not complete</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def lines(rows, title, xlabel, ylabel):
    series = []
    for r in rows:
        if r["series"] not in series:
            series.append(r["series"])
    xs = sorted({float(r["x"]) for r in rows})
    left, top, bottom, right = 70, 50, 360, 620
    width, height = right + 30, bottom + 60 + 18 * len(series)
    out = header(width, height, title)
    y = y_axis(out, left, top, bottom, right, max(float(r["y"]) for r in rows), ylabel)
    span = (xs[-1] - xs[0]) or 1

    def x(v):
        return left + 20 + (v - xs[0]) / span * (right - left - 40)

    for v in xs:
        out.append(f'<text x="{x(v):.1f}" y="{bottom + 18}" text-anchor="middle">{v:g}</text>')
    out.append(f'<text x="{(left + right) / 2:.0f}" y="{bottom + 36}" text-anchor="middle">{escape(xlabel)}</text>')
    for i, name in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        pts = sorted((float(r["x"]), float(r["y"])) for r in rows if r["series"] == name)
        dash = ' stroke-dasharray="6 4"' if "bound" in name else ""
        path = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in pts)
        out.append(
            f'<polyline class="series" points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}>'
            f"<title>{escape(name)}</title></polyline>"
        )
        if not dash:
            for a, b in pts:
                out.append(
                    f'<circle cx="{x(a):.1f}" cy="{y(b):.1f}" r="3" fill="{colour}">'
                    f"<title>{escape(name)}: x={a:g}, {b:.2f}</title></circle>"
                )
        ly = bottom + 54 + 18 * i
        out.append(f'<line x1="{left}" y1="{ly}" x2="{left + 30}" y2="{ly}" stroke="{colour}" stroke-width="2"{dash}/>')
        out.append(f'<text x="{left + 38}" y="{ly + 4}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) < 4 or argv[1] not in ("incentives", "lines"):
        print(__doc__, file=sys.stderr)
        return 2
    kind, source, target = argv[1], argv[2], argv[3]
    opts = {"--title": "", "--x": "x", "--y": "y"}
    rest = argv[4:]
    while rest:
        if len(rest) < 2 or rest[0] not in opts:
            print(__doc__, file=sys.stderr)
            return 2
        opts[rest[0]] = rest[1]
        rest = rest[2:]
    with open(source, newline="") as f:
        if kind == "incentives":
            rows = list(csv.DictReader(f))
        else:  # by position: x, series, y (the header names them as it likes)
            rows = [{"x": r[0], "series": r[1], "y": r[2]} for r in list(csv.reader(f))[1:] if r]
    if not rows:
        print(f"chart.py: {source} has no rows", file=sys.stderr)
        return 1
    if kind == "incentives":
        svg = incentives(rows, opts["--title"])
    else:
        svg = lines(rows, opts["--title"], opts["--x"], opts["--y"])
    with open(target, "w") as f:
        f.write(svg)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
