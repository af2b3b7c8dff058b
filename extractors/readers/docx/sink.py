"""Accumulates the text and marks (strike, highlight, emphasis, circle spans) of one cell or paragraph."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from extractors.grid import Mark
from extractors.readers.docx.fields import _Field
from extractors.readers.docx.styles import RunFlags


# --- text accumulation ------------------------------------------------------------------------
@dataclass
class TextSink:
    """Accumulates the text and marks of one cell (or one paragraph of the body)."""

    parts: list[str] = field(default_factory=list)
    length: int = 0
    marks: list[Mark] = field(default_factory=list)
    choices: list[str] | None = None
    date: dt.date | None = None
    fields: list[_Field] = field(default_factory=list)
    suppress: int = 0  # > 0 inside a placeholder or hidden content

    def emit(self, text: str, flags: RunFlags | None = None, circle: bool = False, circle_detail: str = ""):
        if not text or self.suppress:
            return
        start = self.length
        self.parts.append(text)
        self.length += len(text)
        if flags is not None and text.strip():
            if flags.strike:
                self._span_mark("strike", start, self.length)
            if flags.highlight:
                self._span_mark("highlight", start, self.length)
            if flags.emphasis:
                self._span_mark("emphasis", start, self.length, flags.emphasis)
        if circle:
            self.marks.append(Mark("circle", span=(start, self.length), detail=circle_detail))

    def _span_mark(self, kind: str, start: int, end: int, detail: str = ""):
        # Word splits one formatted word over several runs: extend a mark that ends where this starts.
        for m in reversed(self.marks):
            if m.kind == kind and m.span is not None:
                if m.span[1] == start and m.detail == detail:
                    m.span = (m.span[0], end)
                    return
                break
        # Emphasis (bold, colour, underline) is weak evidence: the interpreter uses it only to tell options apart.
        self.marks.append(Mark(kind, span=(start, end), confidence=0.7 if kind == "emphasis" else 1.0,
                               detail=detail))

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def add_choices(self, items: list[str]):
        if self.choices is None:
            self.choices = []
        for it in items:
            if it not in self.choices:
                self.choices.append(it)

    def visible(self) -> bool:
        return all(f.in_result and not f.suppress for f in self.fields)


def _truncate(sink: TextSink, length: int):
    text = sink.text[:length]
    sink.parts = [text] if text else []
    sink.length = length
    sink.marks = [m for m in sink.marks if m.span is None or m.span[1] <= length]


def _finish(sink: TextSink) -> tuple[str, list[Mark]]:
    """Trim trailing white space; keep marks inside the text."""
    text = sink.text
    trimmed = text.rstrip()
    lead = len(trimmed) - len(trimmed.lstrip("\n"))
    trimmed = trimmed[lead:]
    marks = []
    for m in sink.marks:
        if m.span is None:
            marks.append(m)
            continue
        s, e = max(m.span[0] - lead, 0), min(m.span[1] - lead, len(trimmed))
        if e > s:
            marks.append(Mark(m.kind, (s, e), m.confidence, m.detail))
    return trimmed, marks
