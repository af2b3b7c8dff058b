"""Word list numbering: auto-numbers ("12.3.1", "(6)", "①") rendered as the list engine shows them."""
from __future__ import annotations

import re
from dataclasses import dataclass

from extractors.readers.docx.ns import W_VAL, _w


# --- list numbering ---------------------------------------------------------------------------

_AIUEO = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲン"
_IROHA = "イロハニホヘトチリヌルヲワカヨタレソツネナラムウヰノオクヤマケフコエテアサキユメミシヱヒモセスン"


def _roman(n: int) -> str:
    out = ""
    for value, sym in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                       (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out += sym
            n -= value
    return out


def _letters(n: int) -> str:
    return chr(ord("A") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def _format_number(n: int, fmt: str) -> str | None:
    """Render a list counter; None for bullets and formats that carry no number."""
    if fmt in ("decimal", "decimalZero", ""):
        return f"{n:02d}" if fmt == "decimalZero" else str(n)
    if fmt == "decimalFullWidth" or fmt == "decimalFullWidth2":
        return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    if fmt == "decimalEnclosedCircle" or fmt == "decimalEnclosedCircleChinese":
        return chr(0x2460 + n - 1) if 1 <= n <= 20 else str(n)
    if fmt in ("decimalEnclosedParen",):
        return f"({n})"
    if fmt == "upperLetter":
        return _letters(n)
    if fmt == "lowerLetter":
        return _letters(n).lower()
    if fmt == "upperRoman":
        return _roman(n)
    if fmt == "lowerRoman":
        return _roman(n).lower()
    if fmt in ("aiueo", "aiueoFullWidth"):
        return _AIUEO[(n - 1) % len(_AIUEO)]
    if fmt in ("iroha", "irohaFullWidth"):
        return _IROHA[(n - 1) % len(_IROHA)]
    return None


@dataclass
class _Level:
    fmt: str = "decimal"
    text: str = ""
    start: int = 1


class Numbering:
    """Renders Word auto-numbers ("12.3.1", "(6)", "①") so that item numbers typed by the list
    engine and not in the text are not lost. Bullets are not rendered (a bullet glyph such as □
    must not read as an unchecked box)."""

    def __init__(self, root):
        self._levels: dict[str, dict[int, _Level]] = {}  # abstractNumId -> levels
        self._num_abstract: dict[str, str] = {}
        self._overrides: dict[str, dict[int, int]] = {}  # numId -> {ilvl: start}
        self._counters: dict[str, dict[int, int]] = {}  # abstractNumId -> {ilvl: value}
        self._started: set[tuple[str, int]] = set()
        if root is None:
            return
        for an in root.iter(_w("abstractNum")):
            levels = {}
            for lvl in an.iter(_w("lvl")):
                ilvl = int(lvl.get(_w("ilvl")) or 0)
                fmt = lvl.find(_w("numFmt"))
                text = lvl.find(_w("lvlText"))
                start = lvl.find(_w("start"))
                levels[ilvl] = _Level(
                    fmt=fmt.get(W_VAL) if fmt is not None else "decimal",
                    text=text.get(W_VAL) if text is not None else "",
                    start=int(start.get(W_VAL)) if start is not None else 1,
                )
            self._levels[an.get(_w("abstractNumId"))] = levels
        for num in root.iter(_w("num")):
            nid = num.get(_w("numId"))
            aid = num.find(_w("abstractNumId"))
            if aid is not None:
                self._num_abstract[nid] = aid.get(W_VAL)
            for ov in num.iter(_w("lvlOverride")):
                so = ov.find(_w("startOverride"))
                if so is not None:
                    self._overrides.setdefault(nid, {})[int(ov.get(_w("ilvl")) or 0)] = int(so.get(W_VAL))

    def label(self, num_id: str, ilvl: int) -> str:
        aid = self._num_abstract.get(num_id)
        levels = self._levels.get(aid or "")
        if not levels or ilvl not in levels or num_id == "0":
            return ""
        counters = self._counters.setdefault(aid, {})
        override = self._overrides.get(num_id, {})
        if ilvl in override and (num_id, ilvl) not in self._started:
            self._started.add((num_id, ilvl))
            counters[ilvl] = override[ilvl]
        elif ilvl in counters:
            counters[ilvl] += 1
        else:
            counters[ilvl] = levels[ilvl].start
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        lvl = levels[ilvl]
        if _format_number(1, lvl.fmt) is None:
            return ""

        def repl(m: re.Match) -> str:
            k = int(m.group(1)) - 1
            ref = levels.get(k)
            value = counters.get(k, ref.start if ref else 1)
            return _format_number(value, ref.fmt if ref else "decimal") or ""

        return re.sub(r"%(\d)", repl, lvl.text)
