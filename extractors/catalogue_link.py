"""Item ids and the link from each row to the form catalogue (by number, then by question text)."""
from __future__ import annotations

import re

from extractors import answers as ans
from extractors.forms import CatalogueItem, Form, all_forms, best_text_match, text_similarity
from extractors.model import Item, flag, join_reasons  # noqa: F401 - join_reasons re-exported
from extractors.text import bullet_label, normalize_text


def resolve_checklist_sections(items: list[Item], form: Form | None) -> None:
    """「(4)」 printed without its section: the catalogue item with that number and the closest text gives it.

    The section of such a row came from context (a section row above, a merged section column), which a
    retyped or scanned form can lose; the catalogue text decides when it is clear.
    """
    if form is None:
        return
    for item in items:
        m = re.match(r"^(\d{1,2})?\((\d{1,2})\)(-\d)?$", item.item_id)
        printed_section = re.match(r"^\s*\d", item.number_printed or "")
        if not m or (m.group(1) and printed_section):
            continue
        suffix = f"({m.group(2)})"
        candidates = [c for c in form.items if c.number.endswith(suffix) and not c.parent]
        if not candidates:
            continue
        best = max(candidates, key=lambda c: _sim(item.question, c))
        if _sim(item.question, best) >= 50 or (not m.group(1) and len({c.number for c in candidates}) == 1):
            item.section = best.number.split("(")[0]
            item.item_id = best.number + (m.group(3) or "")


def finalise_ids(items: list[Item], family: str) -> None:
    for item in items:
        if item.kind == "bullet":
            label = bullet_label(item.question)
            item.item_id = f"{item.parent_id}/{label}" if item.parent_id else label
    # Checklist numbers that repeat under device headings get @heading.
    counts: dict[str, int] = {}
    for item in items:
        if "(" in item.item_id:
            counts[item.item_id] = counts.get(item.item_id, 0) + 1
    for item in items:
        if counts.get(item.item_id, 0) > 1 and item.scope:
            item.item_id = f"{item.item_id}@{item.scope}"


def label_unnumbered(items: list[Item]) -> None:
    """A row with neither a number nor a catalogue match keeps its question as its id."""
    for item in items:
        if not item.item_id:
            item.item_id = bullet_label(item.question)[:30] or f"行{item.location.row if item.location else ''}"


def link_catalogue(items: list[Item], form: Form | None, family: str) -> None:
    forms = [form] if form is not None else [f for f in all_forms() if f.family == family] or list(all_forms())
    group_ids = set()
    parent_links: dict[str, str] = {}  # printed parent id -> catalogue id (numbering may differ)
    for item in items:
        cat = None
        for f in forms:
            cat = _match(item, f, parent_links.get(item.parent_id, item.parent_id))
            if cat is not None:
                break
        if cat is not None and item.kind != "bullet":
            parent_links[item.item_id] = cat.id
        if cat is None:
            item.known = False
            continue
        item.catalogue_id = cat.id
        item.concept = cat.concept
        item.tier = cat.tier
        if cat.kind == "group" and item.kind != "bullet":
            item.kind = "group"
            group_ids.add(item.item_id)
        if not item.guideline_ref:
            item.guideline_ref = cat.ref
        if item.kind == "bullet" and cat.parent and item.parent_id:
            item.item_id = f"{item.parent_id}/{cat.id.split('/', 1)[1]}"  # canonical label for a retyped bullet
        elif not item.item_id:
            item.item_id = cat.id
        allowed = cat.answers or _group_answers(cat, forms)
        if item.answer and allowed and item.answer not in allowed:
            offered = [w for w in item.answer_column.split("／") if w in allowed]
            if len(offered) == 1:
                item.answer = offered[0]  # the column prints both words (「いいえ／非該当」): no remapping
                continue
            decision = ans.fit_to_answer_set(ans.Decision(item.answer, item.answer_status, item.confidence,
                                                          item.answer_raw, item.review_reason), allowed)
            item.answer = decision.answer
            item.confidence = min(item.confidence, decision.confidence)
            if decision.reason != item.review_reason or item.confidence < 0.7:
                # A word remapped to the row's options (はい→該当) or not among them: a person confirms.
                item.review_reason = ""
                flag(item, decision.reason or "この項目の選択肢に合わせて読み替えました")
        elif item.answer and not allowed and not answer_is_own_word(item):
            # A heading row takes no answer in the catalogue, and the word came from a column's label, not from
            # the cell (「いいえ／非該当」 column, ● in it): which of the column's words was meant is not certain.
            flag(item, "見出し行の回答を列の見出しから読みました。回答を確認してください", 0.6)


def answer_is_own_word(item: Item) -> bool:
    """The answer is a word written in the chosen cell itself (「はい」, 「Yes」, 「■該当」, a circled 「非該当」),
    not the label of the column a mark sat in (「はい:○ | いいえ: | 対象外:」)."""
    raw = normalize_text(item.answer_raw)
    english = {w for w, a in ans.ENGLISH.items() if a == item.answer}

    def says(text: str) -> bool:
        return item.answer in text or any(re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", text.lower())
                                          for w in english)
    segments = [seg.split(":", 1) for seg in raw.split(" | ")]
    if len(segments) > 1 or (segments and len(segments[0]) == 2 and segments[0][0] in ans.ANSWERS):
        return any(len(seg) == 2 and says(seg[1]) for seg in segments)  # option columns: the cell's own text
    return says(raw)


def _group_answers(cat: CatalogueItem, forms: list[Form]) -> tuple[str, ...]:
    """A group row takes no answer of its own, but when a vendor marks one (a 「はい／該当」 column runs
    through the group row too) it is read in its bullets' words: 該当/非該当 under 12.3.1.1."""
    if cat.kind != "group":
        return ()
    words: list[str] = []
    for form in forms:
        for child in form.items:
            if child.parent == cat.id:
                words += [w for w in child.answers if w not in words]
    return tuple(words)


def _match(item: Item, form: Form, parent_catalogue_id: str = "") -> CatalogueItem | None:
    if item.kind == "bullet":
        children = [c for c in form.items if c.parent and c.parent == parent_catalogue_id]
        cat, _ = best_text_match(item.question, children, 60)
        return cat
    base = item.item_id.split("@")[0]
    if form.match_by_number and base:
        same = [c for c in form.items if c.number == base and not c.parent]
        if item.scope and len(same) > 1:
            same = [c for c in same if c.scope == item.scope] or same
        if same:
            best = max(same, key=lambda c: _sim(item.question, c))
            if not item.question or _sim(item.question, best) >= 45:
                return best
    cat, _ = best_text_match(item.question, [c for c in form.items if not c.parent], 80)
    return cat


def _sim(question: str, cat: CatalogueItem) -> float:
    return max([text_similarity(question, cat.text)] + [text_similarity(question, v) for v in cat.variants])


def dedupe(items: list[Item], warnings: list[str]) -> list[Item]:
    """A number printed twice keeps both rows: the repeat gets `#2`, `#3` … and is flagged for review.

    (Hidden sheets are read only when no visible sheet holds items, so a hidden copy never meets a visible one.)
    """
    counts: dict[str, int] = {}
    for item in items:
        base = item.item_id
        counts[base] = counts.get(base, 0) + 1
        if counts[base] > 1:
            item.item_id = f"{base}#{counts[base]}"
            flag(item, "同じ項目番号の行が複数あります")
            warnings.append(f"項目 {base} が複数回記載されています")
    return items
