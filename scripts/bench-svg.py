#!/usr/bin/env python3
"""Draws the figures of one scripts/bench-suite.sh run as an SVG chart.

Usage: bench-svg.py RESULTS_DIR OUT.svg SUBTITLE
RESULTS_DIR holds modes.tsv (one "ID<TAB>LABEL" line per mode, in order) and, per mode, the
outputs of `ferry bench`: ID.echo (echo table), ID.tput (throughput, 1 then 4 streams) and
ID.rr (request/response). A missing file leaves that mode out of its panel.
"""
import math
import re
import sys
from xml.sax.saxutils import escape

WIDTH, LEFT, RIGHT = 860, 90, 30
COLORS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860"]


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def echo_rows(text):
    """{size: avg_ms} from an echo table."""
    rows = {}
    for line in text.splitlines()[1:]:
        fields = line.split("\t")
        if len(fields) >= 2:
            rows[int(fields[0])] = float(fields[1])
    return rows


def values(text, key):
    return [float(v) for v in re.findall(re.escape(key) + r"=([0-9.]+)", text)]


def text(x, y, s, size=12, anchor="start", extra=""):
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'{extra}>{escape(s)}</text>')


def line(x1, y1, x2, y2, color="#999", width=1):
    return (f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="{color}" stroke-width="{width}"/>')


def echo_panel(modes, top, height):
    """Mean round trip per message size, log-log, one line per mode."""
    series = [(label, color, echo_rows(read(f"{d}/{i}.echo"))) for i, label, color, d in modes]
    series = [s for s in series if s[2]]
    sizes = sorted({size for _, _, rows in series for size in rows})
    ms = [v for _, _, rows in series for v in rows.values() if v > 0]
    if not sizes or not ms:
        return []
    lo, hi = math.floor(math.log10(min(ms))), math.ceil(math.log10(max(ms)))
    hi = max(hi, lo + 1)
    plot_w = WIDTH - LEFT - RIGHT
    x_of = {s: LEFT + plot_w * (k + 0.5) / len(sizes) for k, s in enumerate(sizes)}
    def y_of(v):
        return top + height * (hi - math.log10(v)) / (hi - lo)
    out = [text(WIDTH / 2, top - 12, "Echo round trip, mean (ms, log scale) per message size",
                14, "middle", 'font-weight="bold"')]
    for e in range(lo, hi + 1):
        for m in (1, 2, 5) if e < hi and hi - lo <= 2 else (1,):  # 2 and 5 only when there is room
            y = y_of(m * 10 ** e)
            out += [line(LEFT, y, WIDTH - RIGHT, y, "#ddd"),
                    text(LEFT - 6, y + 4, f"{m * 10 ** e:g}", 11, "end")]
    for s, x in x_of.items():
        out.append(text(x, top + height + 16, f"{s:,} B", 11, "middle"))
    out.append(text(WIDTH / 2, top + height + 34, "message size", 12, "middle"))
    out.append(text(22, top + height / 2, "ms", 12, "middle",
                    f'transform="rotate(-90 22 {top + height / 2:.1f})"'))
    for label, color, rows in series:
        points = " ".join(f"{x_of[s]:.1f},{y_of(v):.1f}" for s, v in sorted(rows.items()) if v > 0)
        out.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>')
        out += [f'<circle cx="{x_of[s]:.1f}" cy="{y_of(v):.1f}" r="3" fill="{color}"/>'
                for s, v in rows.items() if v > 0]
    return out


def bar_panel(title, unit, groups, modes, top, height):
    """Grouped bars: groups is [(group label, {mode id: value})]; linear scale from 0."""
    top_value = max([v for _, vals in groups for v in vals.values()] + [0])
    if top_value <= 0:
        return []
    # A round tick step (1, 2 or 5 times a power of ten) giving at most 5 intervals.
    magnitude = 10 ** math.floor(math.log10(top_value / 5))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude * 5 >= top_value)
    scale_max = math.ceil(top_value / step) * step
    plot_w = WIDTH - LEFT - RIGHT
    group_w = plot_w / len(groups)
    bar_w = group_w * 0.8 / len(modes)
    out = [text(WIDTH / 2, top - 12, title, 14, "middle", 'font-weight="bold"')]
    tick = 0
    while tick <= scale_max + step / 2:
        y = top + height * (1 - tick / scale_max)
        out += [line(LEFT, y, WIDTH - RIGHT, y, "#ddd"),
                text(LEFT - 6, y + 4, f"{tick:g}", 11, "end")]
        tick += step
    out.append(text(22, top + height / 2, unit, 12, "middle",
                    f'transform="rotate(-90 22 {top + height / 2:.1f})"'))
    for g, (group_label, vals) in enumerate(groups):
        x0 = LEFT + g * group_w + group_w * 0.1
        out.append(text(LEFT + (g + 0.5) * group_w, top + height + 16, group_label, 12, "middle"))
        for m, (mode_id, _, color, _) in enumerate(modes):
            v = vals.get(mode_id)
            if v is None:
                continue
            h = height * v / scale_max
            x = x0 + m * bar_w
            out.append(f'<rect x="{x:.1f}" y="{top + height - h:.1f}" width="{bar_w * 0.9:.1f}" '
                       f'height="{h:.1f}" fill="{color}"/>')
            out.append(text(x + bar_w * 0.45, top + height - h - 3, f"{v:g}", 10, "middle"))
    return out


def legend(modes, y):
    out, x = [], LEFT
    for _, label, color, _ in modes:
        out += [f'<rect x="{x}" y="{y - 10}" width="14" height="10" fill="{color}"/>',
                text(x + 20, y, label, 12)]
        x += 30 + 8 * len(label)
    return out


def main():
    results, out_path, subtitle = sys.argv[1:4]
    modes = []
    for k, row in enumerate(read(f"{results}/modes.tsv").splitlines()):
        mode_id, label = row.split("\t")
        modes.append((mode_id, label, COLORS[k % len(COLORS)], results))
    tput = {i: values(read(f"{results}/{i}.tput"), "Gbit/s") for i, _, _, _ in modes}
    rr = {i: values(read(f"{results}/{i}.rr"), "req/s") for i, _, _, _ in modes}
    throughput_groups = [(f"{n} stream{'s' if n > 1 else ''}",
                          {i: v[k] for i, v in tput.items() if len(v) > k})
                         for k, n in enumerate([1, 4])]
    connections = next((values(read(f"{results}/{i}.rr"), "connections") for i in rr if rr[i]), [])
    rr_groups = [(f"{connections[0]:g} connections" if connections else "",
                  {i: v[0] for i, v in rr.items() if v})]
    body = [text(WIDTH / 2, 28, "ferry benchmark suite: Direct, relays and tunnels", 18, "middle",
                 'font-weight="bold"'),
            text(WIDTH / 2, 48, subtitle, 12, "middle", 'fill="#555"')]
    body += legend(modes, 76)
    body += echo_panel(modes, 120, 260)
    body += bar_panel("Bulk throughput to a sink (higher is better)", "Gbit/s",
                      throughput_groups, modes, 470, 200)
    body += bar_panel("Request/response on keep-alive connections (higher is better)",
                      "requests/s", rr_groups, modes, 760, 200)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="1000" '
           f'font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n'
           + "\n".join(body) + "\n</svg>\n")
    with open(out_path, "w") as f:
        f.write(svg)


if __name__ == "__main__":
    main()
