"""Compare an extracted Document with a sample's truth JSON (written by the sample builder)."""
from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

from extractors.model import Document

ITEM_FIELDS = ("answer", "answer_status", "remark", "remark_ref", "first_date", "target_date", "second_answer",
               "second_date")
HEADER_FIELDS = ("family", "form_version", "vendor", "product", "product_version", "created")


def norm(text: str) -> str:
    t = unicodedata.normalize("NFKC", str(text or ""))
    return re.sub(r"\s+", "", t)


def load_truth(path: Path) -> dict:
    return json.loads(Path(str(path) + ".truth.json").read_text(encoding="utf-8"))


def truth_files(folder: Path) -> list[Path]:
    return sorted(p.with_name(p.name[: -len(".truth.json")]) for p in folder.glob("*.truth.json"))


def compare(doc: Document, truth: dict, scan: bool = False) -> list[str]:
    """Differences as readable lines; empty when the document matches its truth.

    For scans (`scan=True`) an item may instead be flagged needs_review, but never be confidently wrong.
    """
    problems = []
    d = doc.to_dict()
    for key in HEADER_FIELDS:
        if key in truth and norm(d.get(key, "")) != norm(truth[key] or ""):
            problems.append(f"{key}: got {d.get(key)!r}, want {truth[key]!r}")
    if truth.get("comment") and norm(truth["comment"]) not in norm(doc.comment):
        problems.append(f"comment: got {doc.comment!r}, want {truth['comment']!r}")
    got = {i.item_id: i for i in doc.items}
    for want in truth["items"]:
        item = got.get(want["item_id"])
        if item is None:
            problems.append(f"{want['item_id']}: missing (have {sorted(got)[:60]})")
            continue
        for key in ITEM_FIELDS:
            if key not in want:
                continue
            g, w = getattr(item, key), want[key]
            if norm(g) != norm(w):
                if scan and item.needs_review:
                    continue
                silent = "" if item.needs_review else " — unflagged (silent error)"
                problems.append(f"{want['item_id']}.{key}: got {g!r}, want {w!r}{silent} "
                                f"(raw {item.answer_raw!r}, {item.location})")
        if want.get("needs_review") and not item.needs_review:
            problems.append(f"{want['item_id']}: the sample makes this answer doubtful but it is not flagged "
                            f"(needs_review expected; got {item.answer!r} at confidence {item.confidence})")
    extra = set(got) - {w["item_id"] for w in truth["items"]}
    if extra:
        problems.append(f"unexpected items: {sorted(extra)}")
    return problems
