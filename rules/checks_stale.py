"""Stale documents: an old 作成日, an outdated form version (one row per vendor), last years' checklist.

Imported by `rules.checks` so that the checks register; each is named by a rule in `rules/catalog/stale.yaml`.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from extractors.forms import forms_of_family
from extractors.model import Document
from rules.check_base import Context, Hit, check, fiscal_year_of, fiscal_year_of_date
from rules.grouping import DISCLOSURE_FAMILIES, VendorGroup


def _older_than(created: dt.date | None, as_of: dt.date, years: int) -> bool:
    if created is None:
        return False
    try:
        limit = as_of.replace(year=as_of.year - years)
    except ValueError:  # 29 February
        limit = as_of.replace(year=as_of.year - years, day=28)
    return created < limit


def _form_note(doc: Document, cond: dict) -> str:
    if doc.form_version not in cond.get("versions", ()):
        return ""
    current = cond.get("current", "")
    return f"{doc.form_version}対応版です" + (f"（現行は{current}対応版）" if current else "")


@check("created_older_than", "document", lambda c: f"作成日が評価日より{c.get('years', 2)}年以上前")
def check_created_older_than(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    """With `versions` (and `current`), an old document on an outdated form gets one row naming both facts
    (the form rule skips it, see `except_created_older_than`)."""
    years = int(cond.get("years", 2))
    if not _older_than(doc.created, ctx.as_of, years):
        return []
    note = _form_note(doc, cond)
    return [Hit([doc], fields={"created": doc.created.isoformat(), "years": str(years)},
                finding=f"作成日 {doc.created.isoformat()} は評価日 {ctx.as_of.isoformat()} の{years}年以上前です。"
                        + (f"様式も{note}。" if note else ""))]


@check("form_version_outdated", "group",
       lambda c: f"様式の版が{'・'.join(c.get('versions', []))}で、評価日が{c.get('since', '')}以降（事業者ごとに1件）")
def check_form_version_outdated(cond: dict, group: VendorGroup, ctx: Context) -> list[Hit]:
    """One row per vendor and outdated form version, naming every document on it: the same request (re-submit on
    the current form) needs no line per file. Documents old enough for the 作成日 rule
    (`except_created_older_than`) are left to that row, which names the form too."""
    since = dt.date.fromisoformat(str(cond.get("since", "1900-01-01")))
    if ctx.as_of < since:
        return []
    skip_years = cond.get("except_created_older_than")
    current = cond.get("current", "")
    hits = []
    for version in cond.get("versions", ()):
        docs = [d for d in group.documents if d.family in DISCLOSURE_FAMILIES and d.form_version == version
                and not (skip_years and _older_than(d.created, ctx.as_of, int(skip_years)))]
        if not docs:
            continue
        products = list(dict.fromkeys(d.product for d in docs))
        which = "提出された様式" if len(docs) == 1 else \
            f"提出された{len(docs)}通（{'、'.join(Path(d.source_file).name for d in docs)}）の様式"
        hits.append(Hit(docs, fields={"form_version": version, "current": current},
                        product=products[0] if len(products) == 1 else "",
                        finding=f"{which}は{version}対応版です" + (f"（現行は{current}対応版）。" if current else "。")))
    return hits


@check("checklist_year_behind", "document",
       lambda c: f"チェックリストの年度が評価日の年度より{int(c.get('max_years_behind', 1)) + 1}年度以上古い")
def check_checklist_year_behind(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    fy = fiscal_year_of(doc)
    current = fiscal_year_of_date(ctx.as_of)
    if fy is None or current - fy <= int(cond.get("max_years_behind", 1)):
        return []
    newer = sorted(f.fiscal_year for f in forms_of_family(doc.family) if f.fiscal_year and fy < f.fiscal_year <= current)
    if not newer and cond.get("require_newer_form", False):
        return []
    latest = (next(f.form_version for f in forms_of_family(doc.family) if f.fiscal_year == newer[-1])
              if newer else f"{current}年度")
    return [Hit([doc], fields={"fiscal_year": str(fy), "current": latest},
                finding=f"チェックリストは{doc.form_version or f'{fy}年度'}の様式で、評価日 {ctx.as_of.isoformat()}"
                        f"（{current}年度）から{current - fy}年度前のものです。"
                        + (f"より新しい{latest}の様式があります。" if newer else "当該年度の確認結果がありません。"))]
