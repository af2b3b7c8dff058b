"""Text normalisation shared by readers and the interpreter: NFKC, item numbers, M/D dates."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache, wraps

CIRCLED_DIGITS = {chr(0x2460 + i): str(i + 1) for i in range(20)}  # ①..⑳


CACHED_TEXT_LENGTH = 256


def cached_when_short(maxsize: int):
    """Decorator for a pure function of texts: it answers from a cache (at most `maxsize` answers, least recently
    used dropped) when every argument is a str of at most CACHED_TEXT_LENGTH characters, and computes the rest.
    Only str arguments are kept, so 1, 1.0 and True are never taken for one another, and long texts (remarks)
    are never kept: the memory stays bounded whatever the documents hold. `cache_info()` as lru_cache's."""
    def decorate(fn):
        cached = lru_cache(maxsize=maxsize)(fn)

        @wraps(fn)
        def call(*texts):
            for text in texts:
                if type(text) is not str or len(text) > CACHED_TEXT_LENGTH:
                    return fn(*texts)
            return cached(*texts)

        call.cache_info = cached.cache_info
        return call
    return decorate


@cached_when_short(4096)
def normalize_text(text: str) -> str:
    """NFKC, unify dashes and tildes, collapse white space. Keeps ○/●/■ marks (NFKC leaves them).

    Short texts are cached: interpreting one document normalises the same cell texts (headers, labels, item
    numbers, questions) again and again, about 30 calls per distinct text; the cache holds far more than one
    document's distinct texts."""
    if not text:
        return ""
    t = unicodedata.normalize("NFKC", str(text))
    t = t.replace("\u3000", " ").replace("\xa0", " ")
    t = _DASHES.sub("-", t)
    t = _BLANKS.sub(" ", t)
    return t.strip()


_DASHES = re.compile(r"[‐‑‒–—―−ｰ]")
_BLANKS = re.compile(r"[ \t]+")


def natural_key(text: str) -> tuple:
    """「2(10)」 after 「2(9)」, 「4.10」 after 「4.9」: numbers inside a text compared as numbers."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", text) if p)


_DOTTED = re.compile(r"^\s*((?:\d\s*){1,3}(?:[.．]\s*(?:\d\s*){1,3}){0,4})(?=[\s.．)）:：、]|[^\d.．]|$)")
_HYPHENATED = re.compile(r"^\s*(\d{1,2}(?:-\d{1,2}){1,4})(?=[\s.:：、)）]|[^\d\-]|$)")
_NUMBER_PREFIX = re.compile(r"^\s*(?:No\.?|NO\.?|№|項番|項目|設問)\s*(?=\d)")


def parse_dotted_number(text: str) -> tuple[str, str]:
    """Leading MDS-style item number: 「1 2. 3. 1 ネットワーク…」 → ("12.3.1", rest).

    Returns ("", text) when the text does not start with a number. Spaces inside the number are
    stray (「1 2. 3. 1」 is 12.3.1); a trailing dot ("4.") is dropped.
    """
    t = normalize_text(text)
    t = _NUMBER_PREFIX.sub("", t)
    if h := _HYPHENATED.match(t):  # 「4-1-1」 written for 4.1.1
        return h.group(1).replace("-", "."), t[h.end():].lstrip(" .:：、)）")
    m = _DOTTED.match(t)
    if not m:
        return "", t
    raw = m.group(1)
    number = re.sub(r"\s+", "", raw).strip(".")
    rest = t[m.end():].lstrip(" .:：、)）")
    # A year or a long number is not an item number.
    if any(len(p) > 2 for p in number.split(".")):
        return "", t
    return number, rest


_CHECKLIST = re.compile(r"^\s*(?:(\d{1,2})\s*)?[(（]\s*(\d{1,2})\s*[)）](?:\s*[-ー]\s*(\d)(?!\d))?")


# 「6 …」「6) …」「6. …」: a checklist number printed without its brackets (read only under a section).
_CHECKLIST_BARE = re.compile(r"^\s*(\d{1,2})(?:\s*[)）.．、]\s*|\s+)(?=[^\d\s.．()（）\-])")


def parse_checklist_number(text: str, section: str = "", bare: bool = False) -> tuple[str, str]:
    """Checklist item number: 「2(6)」, 「(6)」 under section 2, 「⑥」, 「(3)-1」 → ("2(6)", rest).

    Circled numbers are written as plain digits. `bare`: the caller knows the numbering is checklist-style,
    so 「6 …」 / 「6) …」 under section 2 is 2(6) too (elsewhere a bare digit is a section or an MDS item).
    Returns ("", text) when none is found.
    """
    t = unicodedata.normalize("NFC", str(text or "")).strip()
    if t and t[0] in CIRCLED_DIGITS:
        n = CIRCLED_DIGITS[t[0]]
        return (f"{section}({n})" if section else f"({n})"), normalize_text(t[1:])
    t = normalize_text(t)
    m = _CHECKLIST.match(t)
    if not m:
        if bare and section and (b := _CHECKLIST_BARE.match(t)):
            return f"{section}({int(b.group(1))})", t[b.end():].strip(" .:：、")
        return "", t
    sec = m.group(1) or section
    number = f"{sec}({m.group(2)})" if sec else f"({m.group(2)})"
    if m.group(3):
        number += f"-{m.group(3)}"
    return number, t[m.end():].strip(" .:：、")


_MD = re.compile(r"(\d{1,2})\s*[/／月]\s*(\d{1,2})\s*日?")
_YMD = re.compile(r"(\d{4})\s*[/／年.\-]\s*(\d{1,2})\s*[/／月.\-]\s*(\d{1,2})")
_WAREKI = re.compile(r"(令和|平成|R|H)\s*(\d{1,2}|元)\s*[年./]\s*(\d{1,2})\s*[月./]\s*(\d{1,2})")
ERA_BASE = {"令和": 2018, "R": 2018, "平成": 1988, "H": 1988}


def parse_date(text: str, fiscal_year: int | None = None) -> dt.date | None:
    """A date as vendors write it: 2023/7/21, 2023年7月21日, 令和5年7月21日, or M/D.

    M/D has no year: the fiscal year (April–March) of the form gives it (4–12 → fy, 1–3 → fy+1).
    Without a fiscal year an M/D date is not guessed (None). Impossible dates give None.
    """
    t = normalize_text(text)
    if not t:
        return None
    try:
        if m := _WAREKI.search(t):
            year = ERA_BASE[m.group(1)] + (1 if m.group(2) == "元" else int(m.group(2)))
            return dt.date(year, int(m.group(3)), int(m.group(4)))
        if m := _YMD.search(t):
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if m := _MD.search(t):
            if fiscal_year is None:
                return None
            month, day = int(m.group(1)), int(m.group(2))
            return dt.date(fiscal_year if month >= 4 else fiscal_year + 1, month, day)
    except ValueError:
        return None
    return None


def wareki_fiscal_year(text: str) -> int | None:
    """「令和5年度」「令和5年6月」「R6」 → the Western year (2023, 2024)."""
    t = normalize_text(text)
    m = re.search(r"(令和|R)\s*(\d{1,2}|元)\s*年", t)
    if not m:
        return None
    return 2018 + (1 if m.group(2) == "元" else int(m.group(2)))


def bullet_label(text: str) -> str:
    """Item-id label of a bullet row: the text before any bracket, NFKC, no spaces.

    「・記憶 (ID・パスワード等)」 → 「記憶」; 「TLS1.2以上 (高セキュリティ型…)」 → 「TLS1.2以上」.
    """
    t = normalize_text(text).lstrip("・･•●○◦-*· ")
    t = re.split(r"[(（\[【]", t, maxsplit=1)[0]
    return re.sub(r"\s+", "", t)


_COMPANY_FORMS = ("株式会社", "株式會社", "カブシキガイシャ", "有限会社", "合同会社", "一般社団法人", "一般財団法人")
_BRACKETED_FORM = re.compile(r"[(（]\s*(株|有|同|社|財|医)\s*[)）]")
_LATIN_FORM = re.compile(r"(?i)[\s,.]*\b(co\.?\s*,?\s*ltd|ltd|inc|corp(oration)?|k\.?\s?k|llc|co)\b\.?\s*$")
_ADDRESSEE = re.compile(r"\s*(御中|殿|様|宛)\s*$")


_JA = r"\u3005\u3006\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
_BROKEN_BETWEEN_JA = re.compile(rf"(?<=[{_JA}])[\s\u3000]+(?=[{_JA}])")


_BROKEN_LINE_JA = re.compile(rf"(?<=[{_JA}])[ \t\u3000]*[\r\n]+[\s\u3000]*(?=[{_JA}])")
_FORM_SPLIT = re.compile(r"(株|有|合)[\s\u3000]+(式|限|同)[\s\u3000]*(会[\s\u3000]*社)")


def join_broken_name(name: str) -> str:
    """A name a PDF header or a narrow cell broke: a line break between two Japanese characters goes
    (「…株\n式会社」 → 「…株式会社」), and so does a space inside 株式会社 / 有限会社 / 合同会社 (「株式 会社」);
    a line break elsewhere becomes one space; the space the vendor printed after 株式会社 stays."""
    t = _BROKEN_LINE_JA.sub("", name or "")
    t = _FORM_SPLIT.sub(lambda m: m.group(1) + m.group(2) + re.sub(r"\s", "", m.group(3)), t)
    t = re.sub(r"(株式|有限|合同)[\s\u3000]+(会社)", r"\1\2", t)
    return re.sub(r"[ \t]*[\r\n]+[ \t]*", " ", t).strip()


def organization_key(name: str) -> str:
    """A key that makes vendor names comparable: 株式会社 before or after, full/half width, spaces.

    「株式会社 ＡＢＣメディカル」, 「ABCメディカル(株)」, 「ＡＢＣメディカル㈱」, 「ABC メディカル 株式会社」 and
    「ABCメディカル Co., Ltd.」 share the key.
    """
    # NFKC also turns ㈱ into (株) and half-width kana into full width; spaces between Japanese characters are
    # breaks, not words (「株式 会社」, 「しろつめ 医療機器」).
    t = _BROKEN_BETWEEN_JA.sub("", join_broken_name(normalize_text(name)))
    if not t:
        return ""
    t = _ADDRESSEE.sub("", t)
    t = _BRACKETED_FORM.sub("", t)
    for form in _COMPANY_FORMS:
        t = t.replace(form, "")
    previous = None
    while previous != t:  # 「Foo Co., Ltd.」: strip trailing forms repeatedly
        previous = t
        t = _LATIN_FORM.sub("", t).strip()
    t = re.sub(r"[\s・,.、。]", "", t)
    return t.casefold()
