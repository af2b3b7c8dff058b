"""Item ids and the link from each row to the form catalogue (by number, then by question text)."""
from __future__ import annotations

import re

import extractors.answer_cells as ans
from extractors.forms import (
    CatalogueItem,
    Form,
    all_forms,
    best_text_match,
    text_similarity,
)
from extractors.model import Item, flag, join_reasons  # noqa: F401 - join_reasons re-exported
from extractors.text import bullet_label, normalize_text
from extractors.vocabulary import ANSWERS, ENGLISH


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
            if cat is None and item.kind == "bullet":
                cat = _unnumbered_item(item, f) or _orphan_bullet(item, f)
            if cat is not None:
                _reconcile_number(item, cat, f)
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
    english = {w for w, a in ENGLISH.items() if a == item.answer}

    def says(text: str) -> bool:
        return item.answer in text or any(re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", text.lower())
                                          for w in english)
    segments = [seg.split(":", 1) for seg in raw.split(" | ")]
    if len(segments) > 1 or (segments and len(segments[0]) == 2 and segments[0][0] in ANSWERS):
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


BY_TEXT_FACTOR = 0.8  # confidence factor for a row whose catalogue item came from its question text alone
EXACT_TEXT = 90  # a question this close to the catalogue's is the same text, typed or read without doubt


def _flag_by_text(item: Item, reason: str) -> None:
    item.confidence = round(item.confidence * BY_TEXT_FACTOR, 3)
    item.needs_review = True
    item.review_reason = join_reasons(item.review_reason, reason)


def number_from_question(question: str, form: Form | None, open_parent: str = "") -> tuple[CatalogueItem, float] | None:
    """The numbered catalogue item a row's question is, for a row whose number was not read (a scan that
    lost it), or None. Under an open group whose bullets the text matches, the row stays a bullet."""
    if form is None or not form.match_by_number or not question:
        return None
    if open_parent:
        children = [c for c in form.items if c.parent == open_parent]
        if children and best_text_match(question, children, 60)[0] is not None:
            return None
    cat, score = best_text_match(question, [c for c in form.items if not c.parent], 85)
    return (cat, score) if cat is not None and cat.number else None


def flag_number_from_question(item: Item, cat: CatalogueItem, score: float) -> None:
    """Doubt an item whose number came from its question text, unless the text is the catalogue's own."""
    if score < EXACT_TEXT:
        _flag_by_text(item, f"項目番号を読み取れないため、質問文から項目{cat.number}と判断しました")


def _orphan_bullet(item: Item, form: Form) -> CatalogueItem | None:
    """A bullet row with no group row above it (the group's number and text were lost): the catalogue
    bullet its text is, under that bullet's group, flagged."""
    if item.parent_id or not form.match_by_number or not item.question:
        return None
    cat, _ = best_text_match(item.question, [c for c in form.items if c.parent], 80)
    if cat is None:
        return None
    item.parent_id = cat.parent
    _flag_by_text(item, f"見出し行（項目{cat.parent}）を読み取れないため、質問文から項目を判断しました")
    return cat


def _unnumbered_item(item: Item, form: Form) -> CatalogueItem | None:
    """A row taken for a bullet (no number read, under an open group) whose question is a numbered
    catalogue item's: an item whose number was lost (a scan that dropped it)."""
    if not form.match_by_number or not item.question:
        return None
    cat, _ = best_text_match(item.question, [c for c in form.items if not c.parent and c.kind != "group"], 85)
    if cat is None:
        return None
    item.kind, item.parent_id, item.item_id = "item", "", ""
    return cat


def _reconcile_number(item: Item, cat: CatalogueItem, form: Form) -> None:
    """Check the row's number against the catalogue item its question matched.

    A number the form does not have (「4.3.7」, an OCR misreading of 4.3.1) gives way to the catalogue's,
    and so does a missing number; a number an established form has for another question is kept but
    doubted. The row is flagged whenever its id rests on the question text, unless the text is the
    catalogue's own."""
    if item.kind == "bullet" or cat.parent or not form.match_by_number:
        return
    base = item.item_id.split("@")[0]
    if not base:
        score = _sim(item.question, cat)
        item.item_id = cat.id
        if score < EXACT_TEXT:
            _flag_by_text(item, f"項目番号を読み取れないため、質問文から項目{cat.number}と判断しました")
        return
    known_number = any(c.number == base for c in form.items)
    if base == cat.number or (not known_number and base.startswith((f"{cat.number}-", f"{cat.number}."))):
        return  # the item itself, or the vendor's own sub-item of it (「2(3)-1」 under 2(3))
    # A checklist's numbering changes from year to year and some years' catalogues are reconstructed: there
    # a number the catalogue places elsewhere is the vendor's form, not a misreading. JAHIS numbers are stable.
    trusted = form.established or "(" not in base
    if not known_number:
        if trusted:
            printed = item.number_printed or base
            item.item_id = cat.id + item.item_id[len(base):]
            _flag_by_text(item, f"項目番号「{printed}」が様式にないため、質問文から項目{cat.number}と判断しました")
    elif form.established:
        _flag_by_text(item, f"項目番号{base}と質問文（項目{cat.number}）が一致しません")


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
