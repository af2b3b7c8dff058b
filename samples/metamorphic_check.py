"""Compare what the real readers extracted from a metamorphic variant with the variant's truth."""
from __future__ import annotations

import re
import unicodedata

from samples.metamorphic import Variant

MDS_FIELDS = ("answer", "answer_status", "remark")
CHECKLIST_FIELDS = MDS_FIELDS + ("first_date", "target_date", "second_answer", "second_date")


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or "")))


def check(doc, v: Variant) -> list[str]:
    """Differences between an extracted Document and the Variant's truth, as readable lines.

    Every truth item must come out with the same id, answer, status and remark (and checklist dates).
    A different answer is accepted only when the Variant is `doubtful` and the item is flagged
    needs_review; a wrong answer without the flag is always a problem.
    """
    problems = []
    if doc.family != v.sub.family:
        problems.append(f"family: got {doc.family!r}, want {v.sub.family!r}")
    got = {i.item_id: i for i in doc.items}
    fields = CHECKLIST_FIELDS if v.is_checklist else MDS_FIELDS
    for it in v.sub.items:
        item = got.get(it.item_id)
        if item is None:
            problems.append(f"{it.item_id}: missing")
            continue
        for key in fields:
            g, w = getattr(item, key), getattr(it, key)
            if _norm(g) == _norm(w):
                continue
            if v.doubtful and item.needs_review:
                continue
            flag = " (flagged)" if item.needs_review else " (NOT flagged)"
            problems.append(f"{it.item_id}.{key}: got {g!r}, want {w!r}{flag} raw={item.answer_raw!r}")
    extra = sorted(set(got) - {i.item_id for i in v.sub.items})
    if extra:
        problems.append(f"unexpected items: {extra}")
    return problems
