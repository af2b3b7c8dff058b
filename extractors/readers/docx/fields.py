"""Fields (legacy check boxes and dropdowns, 囲い文字 enclosures) and content-control properties."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from extractors.readers.docx.ns import W14_NS, W14_VAL, W_VAL, _OFF, _w
from extractors.readers.docx.styles import _on

_CIRCLE_ENCLOSURES = set("○◯〇⭕")


@dataclass
class _Field:
    kind: str  # checkbox | dropdown | other
    instr: list[str] = field(default_factory=list)
    in_result: bool = False
    suppress: bool = False
    done: bool = False  # emitted its own text already


def _legacy_checked(cb) -> bool:
    for tag in ("checked", "default"):
        el = cb.find(_w(tag))
        if el is not None:
            return (el.get(W_VAL) or "1").lower() not in _OFF
    return False


def _legacy_dropdown(dd) -> tuple[list[str], str]:
    entries = [e.get(W_VAL) or "" for e in dd.findall(_w("listEntry"))]
    idx_el = dd.find(_w("result"))
    if idx_el is None:
        idx_el = dd.find(_w("default"))
    idx = int(idx_el.get(W_VAL) or 0) if idx_el is not None else 0
    value = entries[idx] if 0 <= idx < len(entries) else ""
    return entries, value


_EQ_ENCLOSE = re.compile(r"^\s*eq\s+\\o\s*(?:\\a[clr]\s*)?\(", re.IGNORECASE)


def _parse_enclosure(instr: str) -> tuple[str, str] | None:
    """`eq \\o\\ac(○,は)` (Word's 囲い文字) → ("○", "は"); None for any other field."""
    m = _EQ_ENCLOSE.match(instr)
    if not m:
        return None
    args, depth, cur = [], 0, ""
    for ch in instr[m.end():]:
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                break
            depth -= 1
        if ch == "," and depth == 0:
            args.append(cur)
            cur = ""
        else:
            cur += ch
    args.append(cur)
    if len(args) < 2:
        return None
    parts = [_strip_eq_switches(a) for a in args]
    enclosure = next((p for p in parts if p and set(p) <= (_CIRCLE_ENCLOSURES | set("□◇△"))), "")
    words = [p for p in parts if p and p != enclosure]
    if not enclosure or not words:
        return None
    return enclosure, "".join(words)


def _strip_eq_switches(arg: str) -> str:
    """`\\s\\up 1(は)` → は; removes EQ switches and their brackets."""
    arg = re.sub(r"\\[a-z]+\s*-?\d*", "", arg, flags=re.IGNORECASE)
    return arg.replace("(", "").replace(")", "").strip()


@dataclass
class _SdtInfo:
    checkbox: bool | None = None
    choices: list[str] | None = None
    date: dt.date | None = None
    placeholder: bool = False


def _sdt_info(pr) -> _SdtInfo:
    info = _SdtInfo()
    if pr is None:
        return info
    info.placeholder = pr.find(_w("showingPlcHdr")) is not None and _on(pr.find(_w("showingPlcHdr"))) is not False
    cb = pr.find(f"{{{W14_NS}}}checkbox")
    if cb is not None:
        checked = cb.find(f"{{{W14_NS}}}checked")
        val = checked.get(W14_VAL) if checked is not None else "0"
        info.checkbox = (val or "").lower() in ("1", "true", "on")
        return info
    for tag in ("dropDownList", "comboBox"):
        dd = pr.find(_w(tag))
        if dd is not None:
            info.choices = [li.get(_w("displayText")) or li.get(_w("value")) or "" for li in dd.findall(_w("listItem"))]
            info.choices = [c for c in info.choices if c]
    date = pr.find(_w("date"))
    if date is not None:
        full = date.get(_w("fullDate")) or ""
        try:
            info.date = dt.date.fromisoformat(full[:10]) if full else None
        except ValueError:
            info.date = None
    return info
