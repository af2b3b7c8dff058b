"""Inline SVG charts for the portfolio page: no scripts, no external assets, all text escaped."""
from __future__ import annotations

import datetime as dt
from collections import Counter

from markupsafe import Markup, escape

from pipeline.report_data import CATEGORY_LABELS, SEVERITY_ORDER

SEVERITY_COLOURS = {"高": "#c0392b", "中": "#e08e0b", "低": "#5b8db8"}
FONT = "IPAexGothic, 'Yu Gothic', 'Hiragino Sans', 'Noto Sans CJK JP', sans-serif"


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def severity_bars(rows: list[tuple[str, Counter]], width: int = 680) -> Markup:
    """One horizontal bar per vendor, stacked 高/中/低 (counts of open findings).

    `rows`: (vendor name, Counter keyed by (category, severity)).
    """
    label_w, row_h, top = 190, 26, 30
    bar_w = width - label_w - 50
    totals = [sum(c.values()) for _, c in rows]
    scale = bar_w / max(max(totals, default=0), 1)
    height = top + row_h * max(len(rows), 1) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="12">',
             "<title>事業者別・重大度別の未対応指摘件数</title>"]
    x = label_w
    for sev in SEVERITY_ORDER:  # legend
        parts.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{SEVERITY_COLOURS[sev]}"/>'
                     f'<text x="{x + 16}" y="16">重大度 {sev}</text>')
        x += 90
    if not rows:
        parts.append(f'<text x="{label_w}" y="{top + 16}">指摘はありません</text>')
    for i, (vendor, counts) in enumerate(rows):
        y = top + i * row_h
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end"><title>{escape(vendor)}</title>'
                     f"{escape(_short(vendor, 15))}</text>")
        x = float(label_w)
        for sev in SEVERITY_ORDER:
            n = sum(v for (cat, s), v in counts.items() if s == sev)
            if not n:
                continue
            w = n * scale
            parts.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
                         f'fill="{SEVERITY_COLOURS[sev]}"><title>{escape(vendor)} 重大度{sev}: {n}件</title></rect>')
            if w >= 16:
                parts.append(f'<text x="{x + w / 2:.1f}" y="{y + 16}" text-anchor="middle" fill="#fff">{n}</text>')
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 16}" fill="#333">{sum(counts.values())}件</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def category_heatmap(rows: list[tuple[str, Counter]], width: int = 680) -> Markup:
    """Vendors × categories: each cell shows the count, coloured by the highest severity in it."""
    cats = [c for c in CATEGORY_LABELS if any(cat == c for _, cnt in rows for (cat, _s) in cnt)]
    extra = sorted({cat for _, cnt in rows for (cat, _s) in cnt} - set(CATEGORY_LABELS))
    cats += extra
    label_w, head_h, row_h = 190, 110, 24
    cell_w = min(48, (width - label_w - 10) / max(len(cats), 1))
    height = head_h + row_h * max(len(rows), 1) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="11">',
             "<title>事業者別・分類別の未対応指摘件数（色は最も高い重大度）</title>"]
    if not rows or not cats:
        parts.append(f'<text x="{label_w}" y="{head_h}">指摘はありません</text></svg>')
        return Markup("".join(parts))
    for j, cat in enumerate(cats):
        cx = label_w + j * cell_w + cell_w / 2
        label = CATEGORY_LABELS.get(cat, cat)
        parts.append(f'<text transform="translate({cx + 4:.1f},{head_h - 6}) rotate(-55)">{escape(label)}</text>')
    for i, (vendor, counts) in enumerate(rows):
        y = head_h + i * row_h
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" font-size="12">'
                     f"<title>{escape(vendor)}</title>{escape(_short(vendor, 15))}</text>")
        for j, cat in enumerate(cats):
            x = label_w + j * cell_w
            n = sum(v for (c, _s), v in counts.items() if c == cat)
            worst = next((s for s in SEVERITY_ORDER if counts.get((cat, s))), None)
            fill = SEVERITY_COLOURS[worst] if worst else "#f2f2f2"
            parts.append(f'<rect x="{x + 1:.1f}" y="{y + 1}" width="{cell_w - 2:.1f}" height="{row_h - 2}" '
                         f'fill="{fill}" fill-opacity="{0.9 if worst else 1}">'
                         f"<title>{escape(vendor)} {escape(CATEGORY_LABELS.get(cat, cat))}: {n}件</title></rect>")
            if n:
                parts.append(f'<text x="{x + cell_w / 2:.1f}" y="{y + 16}" text-anchor="middle" fill="#fff" '
                             f'font-weight="bold">{n}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


OS_STATUS_COLOURS = {"eol": "#c0392b", "eol_soon": "#e08e0b", "supported": "#5b8db8"}
OS_STATUS_WORDS = {"eol": "サポート終了", "eol_soon": "1年以内に終了", "supported": "サポート中"}


def eol_timeline(rows: list[tuple[str, dt.date, str, list[str]]], as_of: dt.date | None,
                 width: int = 680) -> Markup:
    """End of support on a time axis: one row per OS (and date), a dot on its end date coloured by status, a bar
    between the evaluation date and that date, the evaluation date as a dashed line.

    `rows`: (label, end date, os_status, device names), in the order to draw. The device names are each dot's
    tooltip (<title>), so every device of the chart can be found in it.
    """
    label_w, row_h, top = 240, 24, 62
    plot_w = width - label_w - 24
    height = top + row_h * max(len(rows), 1) + 14
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="12" class="eol-timeline">',
             "<title>OSのサポート終了日（機器台帳）</title>"]
    x = label_w
    for status in ("eol", "eol_soon", "supported"):  # legend
        parts.append(f'<circle cx="{x + 6}" cy="12" r="6" fill="{OS_STATUS_COLOURS[status]}"/>'
                     f'<text x="{x + 16}" y="16">{OS_STATUS_WORDS[status]}</text>')
        x += 120
    if not rows:
        parts.append(f'<text x="{label_w}" y="{top + 16}">サポート終了日が分かる機器はありません</text></svg>')
        return Markup("".join(parts))
    dates = [d for _, d, _, _ in rows] + ([as_of] if as_of else [])
    start, end = dt.date(min(dates).year, 1, 1), dt.date(max(dates).year + 1, 1, 1)
    span = max((end - start).days, 1)

    def xpos(day: dt.date) -> float:
        return label_w + plot_w * (day - start).days / span

    years = list(range(start.year, end.year + 1))
    step = max(1, -(-48 * (len(years) - 1) // plot_w))  # year labels at least ~48 px apart
    for year in years[::step]:
        gx = xpos(dt.date(year, 1, 1))
        parts.append(f'<line x1="{gx:.1f}" y1="{top - 6}" x2="{gx:.1f}" y2="{height - 10}" stroke="#ddd"/>'
                     f'<text x="{gx:.1f}" y="{top - 10}" text-anchor="middle" fill="#555">{year}年</text>')
    if as_of:
        ax = xpos(as_of)
        anchor = "start" if ax + 130 <= width else "end"
        parts.append(f'<line x1="{ax:.1f}" y1="{top - 30}" x2="{ax:.1f}" y2="{height - 10}" stroke="#333" '
                     f'stroke-dasharray="4 3"/><text x="{ax + (4 if anchor == "start" else -4):.1f}" '
                     f'y="{top - 28}" text-anchor="{anchor}" fill="#333">評価日 {as_of.isoformat()}</text>')
    for i, (label, day, status, names) in enumerate(rows):
        y = top + i * row_h
        colour = OS_STATUS_COLOURS.get(status, "#888")
        word = OS_STATUS_WORDS.get(status, status)
        parts.append(f'<g class="eol-row status-{escape(status)}">'
                     f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end"><title>{escape(label)}</title>'
                     f"{escape(_short(label, 24))}（{len(names)}台）</text>")
        dx = xpos(day)
        if as_of:
            ax = xpos(as_of)
            parts.append(f'<rect x="{min(ax, dx):.1f}" y="{y + 9}" width="{abs(dx - ax):.1f}" height="6" '
                         f'fill="{colour}" fill-opacity="0.35"/>')
        parts.append(f'<circle cx="{dx:.1f}" cy="{y + 12}" r="6" fill="{colour}"><title>{escape(label)} '
                     f"{day.isoformat()} {word}: {escape('、'.join(names))}</title></circle>")
        right = dx + 10 + 80 <= width
        parts.append(f'<text x="{dx + 10 if right else dx - 10:.1f}" y="{y + 16}" '
                     f'text-anchor="{"start" if right else "end"}" fill="#333">{day.isoformat()}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))
