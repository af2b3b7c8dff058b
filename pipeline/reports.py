"""Review deliverables in HTML: one gap report per vendor and product, and a portfolio index.

    build_reports(out_dir, documents, register_df, previous=None, vendor=None) -> [paths]

writes `<out>/reports/<vendor>__<product>.html` and `<out>/index.html`. Pages are self-contained
(inline CSS and SVG, no scripts), print on A4, and every piece of vendor text is escaped by jinja2.
"""
from __future__ import annotations

import functools

import datetime as dt
from collections import Counter
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from extractors.model import Document
from extractors.text import organization_key
from extractors.vocabulary import result_of
from pipeline.report_data import (
    ANSWER_STATUS_LABELS, CATEGORY_LABELS, CLOSED_STATUSES, SEVERITY_ORDER, STATUSES, FindingRow, Group,
    category_label, changes_for, family_label, findings_from_register, group_by_vendor_product, item_evidence,
)
from pipeline.report_names import safe_name, unique_name, write_inside
from pipeline.report_svg import category_heatmap, severity_bars
from pipeline.safe_io import neutral_text

TEMPLATES_DIR = Path(__file__).parent / "templates"
REPORTS_DIR = "reports"
INDEX_NAME = "index.html"
ALL_PRODUCTS = "全製品"


@functools.cache
def template_env() -> Environment:
    """Jinja2 with autoescape on for every template (vendor text is never trusted); compiled templates cached."""
    return Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True, finalize=_inert)


def _inert(value):
    """Every {{ }} output: controls removed, bidi/zero-width shown as ⟨U+…⟩ (already-safe markup stays markup)."""
    if isinstance(value, Markup):
        return Markup(neutral_text(str(value)))
    return neutral_text(value)


def report_file_names(groups: list[Group]) -> dict[tuple[str, str], str]:
    """Deterministic, sanitised, unique file name per group: `<vendor>__<product>.html`."""
    used: set[str] = set()
    names = {}
    for g in sorted(groups, key=lambda g: (g.vendor_key, g.product_key)):
        base = f"{safe_name(g.vendor, '事業者名なし')}__{safe_name(g.product, ALL_PRODUCTS)}"
        names[(g.vendor_key, g.product_key)] = unique_name(base, f"{g.vendor_key}|{g.product_key}", used) + ".html"
    return names


# --- context builders ---------------------------------------------------------------------------------

def short_family_label(family: str) -> str:
    """「MDS（製造業者による…）」 → 「MDS」; checklist labels are kept whole."""
    label = family_label(family)
    return label.split("（")[0] if family in ("mds", "sds") else label


def _answer_css(answer: str, status: str) -> str:
    if status != "answered":
        return "none"
    return {"compliant": "yes", "applies": "yes", "gap": "no"}.get(result_of(answer), "")


def _document_row(d: Document) -> dict:
    fmt = d.format + (f"（{d.converted_from} から変換）" if d.converted_from else "")
    return {
        "file": Path(d.source_file).name, "family": short_family_label(d.family), "form_version": d.form_version,
        "created": d.created.isoformat() if d.created else "", "vendor": d.vendor, "product": d.product,
        "product_version": d.product_version, "format": fmt, "item_count": len(d.items),
        "family_full": family_label(d.family), "guideline_version": d.guideline_version,
        "needs_review": sum(1 for i in d.items if i.needs_review) + (1 if d.vendor_needs_review else 0),
        "warnings": list(d.warnings) + (["事業者名は書類から直接読み取れなかったため推定しています"]
                                        if d.vendor_needs_review else []),
    }


def _answer_table(d: Document) -> dict:
    rows = []
    for it in d.items:
        answer = it.answer or ANSWER_STATUS_LABELS.get(it.answer_status, "")
        if it.answer_raw and it.answer_status != "answered":
            answer += f"（記載：{it.answer_raw}）"
        loc = it.location
        where = " / ".join(p for p in [f"p.{loc.page}" if loc and loc.page else "", loc.sheet or "" if loc else "",
                                       (loc.cell or (f"行{loc.row}" if loc.row else "")) if loc else ""] if p)
        second = " ".join(p for p in [it.second_answer, it.second_date] if p)
        rows.append({
            "number": it.number_printed or it.item_id, "question": it.question, "answer": answer,
            "css": _answer_css(it.answer, it.answer_status), "remark": it.remark, "remark_ref": it.remark_ref,
            "remark_ref_empty": it.remark_ref_empty, "first_date": it.first_date, "target_date": it.target_date,
            "second": second, "location": where, "confidence": f"{it.confidence:.2f}",
            "needs_review": it.needs_review, "review_reason": it.review_reason,
        })
    return {"file": Path(d.source_file).name, "family": family_label(d.family), "form_version": d.form_version,
            "checklist": d.family.startswith("checklist"), "rows": rows, "missing": d.missing_items,
            "comment": d.comment, "review_count": sum(1 for r in rows if r["needs_review"]),
            "unknown": [f"{it.number_printed or it.item_id}「{it.question}」" for it in d.items
                        if not it.known and it.kind != "group"]}


def _change_context(change) -> dict:
    sections = [("better", "改善", "better", change.better), ("worse", "悪化", "worse", change.worse),
                ("changed", "変更", "", change.changed), ("remark", "備考の変更", "", change.remark_changed),
                ("new", "新規項目", "", change.new), ("removed", "削除された項目", "", change.removed)]
    return {
        "family": family_label(change.current.family),
        "previous_file": Path(change.previous.source_file).name,
        "previous_created": change.previous.created.isoformat() if change.previous.created else "",
        "current_file": Path(change.current.source_file).name,
        "current_created": change.current.created.isoformat() if change.current.created else "",
        "empty": change.empty, "sections": sections,
        "counts": {"better": len(change.better), "worse": len(change.worse), "changed": len(change.changed),
                   "remark": len(change.remark_changed), "new": len(change.new), "removed": len(change.removed)},
    }


def _summary(findings: list[FindingRow]) -> tuple[dict, list[dict], list[tuple[str, int]]]:
    open_f = [f for f in findings if not f.closed]
    sev_counts = {s: sum(1 for f in open_f if f.severity == s) for s in SEVERITY_ORDER}
    cats = [c for c in CATEGORY_LABELS if any(f.category == c for f in open_f)]
    cats += sorted({f.category for f in open_f} - set(CATEGORY_LABELS))
    cat_rows = []
    for c in cats:
        counts = [sum(1 for f in open_f if f.category == c and f.severity == s) for s in SEVERITY_ORDER]
        cat_rows.append({"label": category_label(c), "counts": counts,
                         "total": sum(1 for f in open_f if f.category == c)})
    status = Counter(f.status for f in findings)
    status_counts = [(s, status[s]) for s in STATUSES if status[s]] + \
                    [(s, n) for s, n in status.items() if s not in STATUSES]
    return sev_counts, cat_rows, status_counts


def render_report(group: Group, previous=None, generated: str = "") -> str:
    sev_counts, cat_rows, status_counts = _summary(group.findings)
    changes = [_change_context(c) for c in changes_for(group.documents, previous)]
    return template_env().get_template("report.html.j2").render(
        g=group, generated=generated, severities=SEVERITY_ORDER, sev_counts=sev_counts, cat_rows=cat_rows,
        status_counts=status_counts,
        doc_rows=[_document_row(d) for d in group.documents],
        open_findings=[{"row": f, "quoted": item_evidence(f, group.evidence_documents)} for f in group.open_findings],
        changes=changes, answers_section=5 if changes else 4,
        answer_tables=[_answer_table(d) for d in group.documents],
    )


def _vendor_counters(groups: list[Group]) -> list[tuple[str, Counter]]:
    """Open findings per vendor, each risk counted once, as Counter[(category, severity)]."""
    per_vendor: dict[str, tuple[str, dict[str, FindingRow]]] = {}
    for g in groups:
        name, seen = per_vendor.setdefault(g.vendor_key, (g.vendor, {}))
        for f in g.findings:
            if not f.closed:
                seen.setdefault(f.risk_id or id(f), f)
    rows = []
    for name, seen in per_vendor.values():
        rows.append((name, Counter((f.category, f.severity) for f in seen.values())))
    return sorted(rows, key=lambda r: (-sum(r[1].values()), r[0]))


def render_index(groups: list[Group], hrefs: dict[tuple[str, str], str | None], generated: str = "",
                 devices: dict | None = None) -> str:
    """The portfolio page; `devices`: pipeline.report_devices.devices_context (None: no ledger, no devices view)."""
    rows = []
    for g in groups:
        open_f = [f for f in g.findings if not f.closed]
        rows.append({
            "vendor": g.vendor, "product": g.product, "href": hrefs.get((g.vendor_key, g.product_key)),
            "families": sorted({short_family_label(d.family) for d in g.documents}),
            "sev": {s: sum(1 for f in open_f if f.severity == s) for s in SEVERITY_ORDER},
            "open": len(open_f), "in_talks": sum(1 for f in open_f if f.status == "協議中"),
            "closed": sum(1 for f in g.findings if f.status in CLOSED_STATUSES),
            "needs_review": sum(1 for d in g.documents for i in d.items if i.needs_review),
        })
    counters = _vendor_counters(groups)
    unique: dict[object, FindingRow] = {}
    for g in groups:
        for f in g.findings:
            unique.setdefault(f.risk_id or id(f), f)
    docs = {d.sha256 or id(d) for g in groups for d in g.documents}
    return template_env().get_template("index.html.j2").render(
        generated=generated, rows=rows, severities=SEVERITY_ORDER,
        vendor_count=len({g.vendor_key for g in groups}), document_count=len(docs),
        sev_totals={s: sum(1 for f in unique.values() if not f.closed and f.severity == s) for s in SEVERITY_ORDER},
        closed_total=sum(1 for f in unique.values() if f.closed),
        severity_chart=severity_bars(counters), category_chart=category_heatmap(counters), devices=devices,
    )


def build_reports(out_dir: Path, documents: list[Document], register_df, previous=None,
                  vendor: str | None = None, *, generated_at: dt.datetime | None = None,
                  devices=None, as_of: dt.date | str | None = None) -> list[Path]:
    """Write one report per vendor and product (only `vendor`'s when given) and the portfolio index.

    `devices`: the run's device table (pipeline.devices, None without a ledger) for the index's devices view,
    whose statuses hold for the evaluation date `as_of`.

    `previous`: earlier Documents (dict of any key → Document, or a list) for the change list.
    Returns the paths written, reports first and index.html last.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    generated = (generated_at or dt.datetime.now()).strftime("%Y-%m-%d %H:%M")
    groups = group_by_vendor_product(list(documents), findings_from_register(register_df))
    names = report_file_names(groups)
    wanted = organization_key(vendor) if vendor is not None else None
    written: list[Path] = []
    hrefs: dict[tuple[str, str], str | None] = {}
    for g in groups:
        key = (g.vendor_key, g.product_key)
        path = out_dir / REPORTS_DIR / names[key]
        if wanted is None or g.vendor_key == wanted:
            written.append(write_inside(out_dir, path, render_report(g, previous, generated)))
        hrefs[key] = f"{REPORTS_DIR}/{quote(names[key])}" if path.exists() else None
    from pipeline.report_devices import devices_context

    index = render_index(groups, hrefs, generated, devices_context(devices, as_of))
    written.append(write_inside(out_dir, out_dir / INDEX_NAME, index))
    return written
