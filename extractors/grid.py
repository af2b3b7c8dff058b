"""The common table model every format reader produces.

A reader turns a file into a `Grid`: a list of `Table`s, each a list of rows of `Cell`s.
An XLSX sheet is one table; a DOCX gives one table per Word table plus one-column tables
for the paragraphs between them; a PDF gives one table per page (or per table found on a page).
The interpreter (`extractors.interpret`) reads only this model, never the file.

Visual evidence that is not text is kept as `Mark`s: a drawn ellipse over a cell or a word,
a strike-through, a fill colour, a checked box. Checkboxes that Word keeps as content controls
or form fields are written into `Cell.text` as the glyphs ☑ / ☐ at their position, so that the
interpreter reads every checkbox convention the same way.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

MarkKind = Literal["circle", "strike", "fill", "check", "highlight", "emphasis"]

CHECKED_BOX = "☑"
UNCHECKED_BOX = "☐"


@dataclass
class Mark:
    """Non-text evidence on a cell.

    `span` is (start, end) into `Cell.text` when the mark covers part of the text (a circled or
    struck-through word); None when it covers the whole cell (an Excel ellipse anchored on the cell,
    a cell fill). `confidence` is the reader's certainty that the mark is there and is a mark
    (a vector curve: high; an ellipse found in a scan: lower). `emphasis` is a word in bold, colour or
    underline: weak evidence, used only when it singles out one option among several.
    """

    kind: MarkKind
    span: tuple[int, int] | None = None
    confidence: float = 1.0
    detail: str = ""  # e.g. fill colour "FFFF00", shape name "楕円 1"


@dataclass
class Cell:
    text: str = ""
    marks: list[Mark] = field(default_factory=list)
    # Choices offered by a dropdown (data validation list), when the cell has one.
    choices: list[str] | None = None
    # A real date value (Excel date cell, Word date picker), besides its text.
    date: dt.date | None = None
    # Merged range: the top-left cell carries the text and these spans; covered cells have
    # `merged_into` set to the (row, col) of the top-left cell and empty text.
    rowspan: int = 1
    colspan: int = 1
    merged_into: tuple[int, int] | None = None
    # Where a person finds it: "C12" for a sheet, "行5 列3" for a Word table, "x=120,y=340" for a page.
    ref: str = ""
    # Position on the page (x0, top, x1, bottom) in points, for PDF cells; None elsewhere.
    bbox: tuple[float, float, float, float] | None = None
    hidden: bool = False  # hidden row or column

    @property
    def is_blank(self) -> bool:
        return not self.text.strip() and not self.marks


@dataclass
class Table:
    """One grid of cells. `name` is the sheet name, "表2", "本文", or "p.3"."""

    name: str
    rows: list[list[Cell]]
    kind: Literal["sheet", "table", "text", "page"] = "table"
    hidden: bool = False  # a hidden sheet
    page: int | None = None  # 1-based page number for PDFs
    # Readers may note what they could not read (e.g. "(cid:..) 文字を検出", "画像のみのページ").
    warnings: list[str] = field(default_factory=list)
    # How sure the reader is of this table's text as a whole (a scan: < 1).
    confidence: float = 1.0
    # Why marks on this table may have been missed (a drawing part that failed to parse), in Japanese,
    # e.g. 「図形（丸印など）の一部を読み取れなかった」; "" when every part was read. An empty answer on
    # such a table is not certain: the interpreter flags it.
    mark_doubt: str = ""
    # Rows whose text the reader could not place for certain (row index -> Japanese reason, e.g. text that
    # overflowed its cell in a print): the interpreter flags the items read from them.
    row_doubt: dict[int, str] = field(default_factory=dict)

    @property
    def n_cols(self) -> int:
        return max((len(r) for r in self.rows), default=0)


@dataclass
class Grid:
    """Everything a reader got out of one file."""

    source: str  # file name as dropped
    format: Literal["xlsx", "docx", "pdf", "csv"]
    tables: list[Table]
    warnings: list[str] = field(default_factory=list)
    # Free text outside any table that the reader found (e.g. text boxes, headers/footers).
    loose_text: list[str] = field(default_factory=list)
