"""The catalogue of known forms (data in `extractors/catalogue/*.yaml`) and row matching.

Rows are matched to catalogue items by item number and fuzzy question text. A form whose
numbering is not established (`match_by_number: false`) is matched by text only.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz

from extractors.text import cached_when_short, normalize_text
from extractors.yamlfile import load_yaml

CATALOGUE_DIR = Path(__file__).parent / "catalogue"


@dataclass(frozen=True)
class CatalogueItem:
    id: str
    text: str
    number: str  # printed number without device suffix: "2(4)" for "2(4)@サーバ"; "" for bullets
    answers: tuple[str, ...]  # allowed answers; () for a group header that takes none
    concept: str = ""
    ref: str = ""
    parent: str = ""
    section: str = ""
    scope: str = ""
    kind: str = "item"  # item | group
    gate: bool = False
    remark_required_if: str = ""
    requires: tuple[tuple[str, str], ...] = ()  # ((item_id, answer), ...) that make the item applicable
    tier: str = ""
    variants: tuple[str, ...] = ()


@dataclass(frozen=True)
class Form:
    id: str
    family: str
    form_version: str
    title: str
    detect: tuple[str, ...]
    items: tuple[CatalogueItem, ...]
    guideline: str = ""
    fiscal_year: int | None = None
    match_by_number: bool = True
    established: bool = True
    answer_sets: dict = field(default_factory=dict, hash=False, compare=False)

    def item(self, item_id: str) -> CatalogueItem | None:
        return next((i for i in self.items if i.id == item_id), None)


def _load_raw() -> dict[str, dict]:
    raw = {}
    for path in sorted(CATALOGUE_DIR.glob("*.yaml")):
        data = load_yaml(path)
        raw[data["id"]] = data
    return raw


def _build_items(data: dict, raw: dict[str, dict]) -> tuple[list[dict], dict, str]:
    if "inherits" in data and "items" not in data:
        return _build_items(raw[data["inherits"]], raw)
    return data["items"], data.get("answer_sets", {}), data.get("default_answers", "")


@functools.cache
def all_forms() -> tuple[Form, ...]:
    raw = _load_raw()
    forms = []
    for form_id, data in raw.items():
        items_raw, answer_sets, default_set = _build_items(data, raw)
        items = []
        for it in items_raw:
            answers_key = it.get("answers", default_set)
            answers = () if answers_key == "none" else tuple(answer_sets.get(answers_key, ()))
            number = it.get("number", "" if it.get("parent") else it["id"])
            items.append(CatalogueItem(
                id=it["id"], text=it["text"], number=number, answers=answers,
                concept=it.get("concept", ""), ref=str(it.get("ref", "")), parent=it.get("parent", ""),
                section=str(it.get("section", "")), scope=it.get("scope", "") or "",
                kind=it.get("kind", "item"), gate=bool(it.get("gate", False)),
                remark_required_if=it.get("remark_required_if", ""),
                requires=tuple((it.get("requires") or {}).items()), tier=it.get("tier", ""),
                variants=tuple(it.get("variants", ())),
            ))
        forms.append(Form(
            id=form_id, family=data["family"], form_version=str(data["form_version"]),
            title=data["title"], detect=tuple(data.get("detect", ())), items=tuple(items),
            guideline=data.get("guideline", ""), fiscal_year=data.get("fiscal_year"),
            match_by_number=data.get("match_by_number", True),
            established=data.get("established", True), answer_sets=answer_sets,
        ))
    return tuple(forms)


def missing_catalogue_items(form: Form, present: set[str]) -> list[str]:
    """Catalogue items of `form` that a document lacks.

    For an established form, every answerable item that is not present. For a form whose numbering is
    known but whose item list is not established (reconstructed from a sibling form), only a gap inside a
    run: an item absent while the items just before and after it in the catalogue are present, which is
    a row the vendor deleted rather than a row the form may not have.
    """
    answerable = [c for c in form.items if c.kind != "group" and c.tier != "reference"]
    if form.established:
        return [c.id for c in answerable if c.id not in present]
    if not form.match_by_number:
        return []
    numbered = [c for c in answerable if not c.parent]
    return [c.id for prev, c, nxt in zip(numbered, numbered[1:], numbered[2:])
            if c.id not in present and prev.id in present and nxt.id in present]


def get_form(form_id: str) -> Form | None:
    return next((f for f in all_forms() if f.id == form_id), None)


def forms_of_family(family: str) -> list[Form]:
    return [f for f in all_forms() if f.family == family]


@cached_when_short(8192)
def text_similarity(a: str, b: str) -> float:
    """0–100 similarity of two question texts after normalisation (tolerates typos, brackets).

    Bracketed notes (「（「いいえ」の場合…）」, 「（具体的な組み合わせを備考に…）」) are compared with and without.
    Pairs of short texts are scored once: every vendor's copy of a form prints the same questions, each matched
    against the same catalogue texts.
    """
    score = _similarity(_comparable(a), _comparable(b))
    sa, sb = _without_notes(a), _without_notes(b)
    if (sa, sb) != (a, b):
        score = max(score, _similarity(_comparable(sa), _comparable(sb)))
    return score


_NOTE = re.compile(r"[（(][^（）()]*(?:[（(][^（）()]*[)）][^（）()]*)*[)）]")


def _without_notes(text: str) -> str:
    stripped = _NOTE.sub("", text or "")
    # An unclosed trailing note (a cut-off cell): drop from its opening bracket.
    return re.split(r"[（(](?=[^）)]*$)", stripped)[0]


def _similarity(na: str, nb: str) -> float:
    if not na or not nb:
        return 0.0
    short, long_ = sorted((len(na), len(nb)))
    partial = fuzz.partial_ratio(na, nb) if short >= 6 else 0
    # A short text found inside a much longer one is weaker evidence than a whole match.
    partial *= 0.6 + 0.4 * short / long_
    return max(fuzz.ratio(na, nb), partial)


# Letters OCR confuses (kanji and katakana of the same shape, small and large kana): folded to one form on
# both sides of a comparison, so a scanned question matches its catalogue text despite them.
_LOOKALIKE_FOLD = str.maketrans({"口": "ロ", "工": "エ", "力": "カ", "夕": "タ", "卜": "ト", "八": "ハ", "二": "ニ",
                                 "三": "ミ", "一": "ー", "へ": "ヘ", "べ": "ベ", "ぺ": "ペ", "り": "リ",
                                 "ァ": "ア", "ィ": "イ", "ゥ": "ウ", "ェ": "エ", "ォ": "オ", "ッ": "ツ", "ャ": "ヤ",
                                 "ュ": "ユ", "ョ": "ヨ", "っ": "つ", "ゃ": "や", "ゅ": "ゆ", "ょ": "よ"})


# A guideline reference left in a question (「(6.5.C4)」 whose bracket OCR misread) is not question text.
_GUIDELINE_REF = re.compile(r"\d{1,2}\.\d{1,2}(?:\.C\d{1,2})?(?:[、,]\s*\d{1,2}\.\d{1,2}(?:\.C\d{1,2})?)*")


@functools.lru_cache(maxsize=20000)
def _comparable(text: str) -> str:
    t = _GUIDELINE_REF.sub("", normalize_text(text)).translate(_LOOKALIKE_FOLD)
    for ch in " 　・、。,.?？「」『』()（）[]【】:：/／-－ー":
        t = t.replace(ch, "")
    return t


def best_text_match(text: str, candidates: list[CatalogueItem], threshold: float = 72.0
                    ) -> tuple[CatalogueItem | None, float]:
    best, best_score = None, 0.0
    for cand in candidates:
        score = max([text_similarity(text, cand.text)] + [text_similarity(text, v) for v in cand.variants])
        if score > best_score:
            best, best_score = cand, score
    if best_score < threshold:
        return None, best_score
    return best, best_score
