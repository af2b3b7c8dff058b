"""Remark (備考) analysis: split a remark into sentences and find the signals rules act on.

Pipeline choice: `spacy.blank("ja")` with SudachiPy split mode C, not `ja_ginza`. The patterns
only need Sudachi's normalised forms and part-of-speech tags (助動詞 ない/ず for negation, normalised
word sequences for constructions), which the Sudachi tokenizer gives: spaCy's Japanese tokenizer
copies SudachiPy's `normalized_form()` into `token.norm_` (お/ご → 御, ください → 下さる, サーバ →
サーバー, 見積り → 見積もり, ん → ず). ja_ginza's parser and NER add nothing the rules use and cost
1.3 s to load and ~21 ms per sentence against 0.06 s and ~0.2 ms (dependencies.md §2). Mode C keeps
compounds such as 多要素認証 and 未実施 as single tokens. The pipeline and the matchers are built once
per process and cached (about 1 s for the matchers; a few ms per remark for tokenizing and matching).

Patterns live in `rules/patterns/*.yaml` (synonym sets under `words`, constructions per class) and are
measured on tests/data/remark_corpus.yaml by `python -m rules.remark_eval`. Sentences are split on 。！？
and line breaks so that a finding can quote the exact sentence from the remark.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from extractors.yamlfile import load_yaml

PATTERN_DIR = Path(__file__).parent / "patterns"

# Classes a rule can ask for. "limitation" and "contradiction" are derived from "negation".
DERIVED = ("limitation", "contradiction")


@dataclass(frozen=True)
class RemarkSignal:
    cls: str  # option | duty_shift | negation | plan | log_topic | exception | partial | limitation | contradiction …
    sentence: str  # the exact sentence from the remark
    trigger: str  # the matched words


@functools.cache
def nlp():
    import spacy

    return spacy.blank("ja", config={"nlp": {"tokenizer": {"split_mode": "C"}}})


# Sudachi sometimes keeps the honorific prefix inside a noun (ご請求 as one token, not 御 + 請求): a word
# set also holds its prefixed spellings.
_HONORIFIC = ("御", "ご", "お")


def _word_set(words: dict[str, list[str]], name: str) -> list[str]:
    base = [str(w) for w in words[name]]
    return base + [p + w for w in base for p in _HONORIFIC if not w.startswith(_HONORIFIC)]


def _expand(value, words: dict[str, list[str]]):
    """Replace "$NAME" (a value, or an item of IN / NOT_IN) by the synonym set `words[NAME]`."""
    if isinstance(value, str) and value.startswith("$"):
        return {"IN": _word_set(words, value[1:])}
    if isinstance(value, dict):
        out = {}
        for key, v in value.items():
            if key in ("IN", "NOT_IN"):
                items = [v] if isinstance(v, str) else list(v)
                flat: list = []
                for item in items:
                    flat += _word_set(words, item[1:]) if isinstance(item, str) and item.startswith("$") else [item]
                out[key] = flat
            else:
                out[key] = _expand(v, words)
        return out
    return value


def _expand_pattern(pattern: list[dict], words: dict[str, list[str]]) -> list[dict]:
    return [{key: _expand(v, words) for key, v in token.items()} for token in pattern]


@functools.cache
def _pattern_files() -> tuple[dict, ...]:
    return tuple(load_yaml(p) or {} for p in sorted(PATTERN_DIR.glob("*.yaml")))


@functools.cache
def _pattern_data() -> dict[str, dict]:
    files = _pattern_files()
    words: dict[str, list[str]] = {}
    for data in files:
        words.update(data.get("words") or {})
    classes: dict[str, dict] = {}
    for data in files:
        for name, spec in (data.get("classes") or {}).items():
            merged = classes.setdefault(name, {"label": "", "phrases": [], "token_patterns": [],
                                               "exclude_patterns": []})
            merged["label"] = merged["label"] or spec.get("label", "")
            merged["phrases"] += list(spec.get("phrases") or [])
            for key in ("token_patterns", "exclude_patterns"):
                merged[key] += [_expand_pattern(p, words) for p in spec.get(key) or []]
    return classes


_KATAKANA = re.compile(r"[ァ-ヴー]{4,}")
# OCR and typing slips in katakana loan words: small/large kana (オプシヨン), voicing (オブション,
# カスタマイス), a dropped or doubled mark. Folding small kana first makes those distance 0.
_SMALL_KANA = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")


@functools.cache
def _key_terms() -> dict[str, str]:
    """Folded spelling -> normalised form, for every katakana word (4+ letters) the patterns name."""
    terms: set[str] = set()

    def walk(value) -> None:
        if isinstance(value, str):
            if _KATAKANA.fullmatch(value):
                terms.add(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for data in _pattern_files():
        walk(data)
    return {t.translate(_SMALL_KANA): t for t in terms}


@functools.lru_cache(maxsize=8192)
def fuzzy_key_term(norm: str) -> str | None:
    """The pattern word a katakana token is a slip of (オプシヨン → オプション), or None.

    Only for katakana tokens of 4+ letters that are not a pattern word themselves; a slip is one edit
    (two from 8 letters) after folding small kana, and the nearest word must be unique.
    """
    from rapidfuzz.distance import Levenshtein

    keys = _key_terms()
    if not _KATAKANA.fullmatch(norm) or norm in keys.values():
        return None
    folded = norm.translate(_SMALL_KANA)
    if folded in keys:
        return keys[folded]
    limit = 2 if len(folded) >= 8 else 1
    near = [(Levenshtein.distance(folded, k, score_cutoff=limit), v) for k, v in keys.items()
            if abs(len(k) - len(folded)) <= limit]
    near = [(d, v) for d, v in near if d <= limit]
    if not near:
        return None
    best = min(d for d, _ in near)
    words = {v for d, v in near if d == best}
    return words.pop() if len(words) == 1 else None


def class_label(cls: str) -> str:
    if cls == "limitation":
        return "例外・制限の記載"
    if cls == "contradiction":
        return "機能を否定する記載"
    return _pattern_data().get(cls, {}).get("label", cls)


@functools.cache
def _matchers():
    from spacy.matcher import Matcher, PhraseMatcher

    pipeline = nlp()
    matcher = Matcher(pipeline.vocab)
    excluder = Matcher(pipeline.vocab)
    phrases = PhraseMatcher(pipeline.vocab, attr="NORM")
    for name, spec in _pattern_data().items():
        if spec["token_patterns"]:
            matcher.add(name, spec["token_patterns"])
        if spec["exclude_patterns"]:
            excluder.add(name, spec["exclude_patterns"])
        if spec["phrases"]:
            phrases.add(name, [pipeline(str(p)) for p in spec["phrases"]])
    return matcher, excluder, phrases


# A remark that only says there is nothing to say (なし, 特になし, 該当なし, N/A, －).
_NOTHING = re.compile(r"[\s(（【]*(?:特に|特記事項|記載事項|該当)?(?:なし|無し|ナシ|N/?A|[-－ー―‐/／])?[\s)）】。．.]*", re.I)

_SENTENCE_END = re.compile(r"(?<=[。！？!?])|\n+")


def split_sentences(text: str) -> list[str]:
    """Sentences as written (exact substrings of the remark), without surrounding white space.

    A bracketed tail such as 「（オプション）」 after 。 belongs to the sentence before it.
    """
    parts = [p.strip() for p in _SENTENCE_END.split(text or "")]
    out: list[str] = []
    for p in parts:
        if not p:
            continue
        if out and re.fullmatch(r"[（(【\[].*[)）】\]]", p):
            out[-1] = f"{out[-1]}{p}"
            continue
        out.append(p)
    return out


def _sentence_signals(sentence: str) -> dict[str, str]:
    """class -> first trigger text, for one sentence."""
    if _NOTHING.fullmatch(sentence):
        return {}
    matcher, excluder, phrases = _matchers()
    doc = nlp()(sentence)
    for token in doc:
        key = fuzzy_key_term(token.norm_)
        if key:
            token.norm_ = key  # a slip of a pattern word matches as that word (the quote keeps the text)
    vocab = doc.vocab.strings
    excluded: dict[str, list[tuple[int, int]]] = {}
    for match_id, start, end in excluder(doc):
        excluded.setdefault(vocab[match_id], []).append((start, end))
    found: dict[str, str] = {}
    for match_id, start, end in sorted(list(matcher(doc)) + list(phrases(doc)), key=lambda m: (m[1], m[2])):
        name = vocab[match_id]
        if any(s < end and start < e for s, e in excluded.get(name, [])):
            continue
        found.setdefault(name, doc[start:end].text)
    if "restricted" in found:
        found["limitation"] = found["restricted"]
    if "negation" in found:
        if {"exception", "partial"} & found.keys():
            found.setdefault("limitation", found["negation"])
        elif "limitation" not in found:
            found["contradiction"] = found["negation"]
    return found


@functools.lru_cache(maxsize=4096)
def analyze(remark: str) -> tuple[RemarkSignal, ...]:
    """All signals in a remark, in sentence order."""
    signals = []
    for sentence in split_sentences(remark):
        for cls, trigger in _sentence_signals(sentence).items():
            signals.append(RemarkSignal(cls=cls, sentence=sentence, trigger=trigger))
    return tuple(signals)


def signals_of(remark: str, classes: tuple[str, ...] | list[str]) -> list[RemarkSignal]:
    wanted = set(classes)
    return [s for s in analyze(remark) if s.cls in wanted]
