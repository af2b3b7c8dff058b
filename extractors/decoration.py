"""Which cell fills in option columns are the form's decoration, not a vendor's mark.

Forms shade cells: header rows, section rows, a group row under which bullets are answered, and options
that do not apply to a row (対象外 greyed out on the 該当/非該当 rows). A vendor marks by singling out
one option of a row: a glyph, a circle, or a fill in a colour of its own. This module looks at one table
as a whole (`extractors.answer_cells.table_decoration`, which needs the marks it reads) and tells, for a
fill on an option cell, whether it is a mark:

- a colour the vendor marks with (it singles out a different option in several rows that hold no other
  mark) is always a mark;
- a grey, a pastel tint repeated down the column, or a colour the form uses elsewhere, shading one option
  column in rows where another option is marked, is decoration in that column, also on a row left blank
  (the blank row stays unanswered);
- a colour the form uses elsewhere (header rows, section rows, number/question/remark cells), or a neutral
  grey, beside another option's mark, is decoration; such a colour alone in a row is doubtful: not read as
  the answer, and the row is flagged for a person. So is a grey alone in a row of a table whose vendor
  marks with glyphs or circles elsewhere.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from extractors.grid import Cell

MARK = "mark"
DECORATION = "decoration"
DOUBTFUL = "doubtful"


def fill_colours(cell: Cell) -> tuple[str, ...]:
    return tuple(sorted({m.detail for m in cell.marks if m.kind == "fill"}))


def _rgb(colour: str) -> tuple[int, int, int] | None:
    c = (colour or "").strip().lstrip("#").upper()
    if len(c) != 6:
        return None
    try:
        r, g, b = (int(c[i:i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        return None
    return r, g, b


def is_neutral(colour: str) -> bool:
    """A grey (the red, green and blue parts nearly equal): the colour forms use to shade cells."""
    rgb = _rgb(colour)
    return rgb is not None and max(rgb) - min(rgb) <= 16 and max(rgb) >= 96


def is_pale(colour: str) -> bool:
    """A pastel tint (every part light): a form's shading more often than a vendor's marker colour."""
    rgb = _rgb(colour)
    return rgb is not None and min(rgb) >= 0xC0


@dataclass
class Decoration:
    colours: set[str] = field(default_factory=set)  # colours the form shades non-option cells with
    columns: set[tuple[str, str]] = field(default_factory=set)  # (option word, colour) the form shades
    marking: set[str] = field(default_factory=set)  # colours the vendor marks with

    def classify(self, label: str, colour: str, others_marked: bool) -> str:
        """MARK, DECORATION or DOUBTFUL for a fill of `colour` on the option `label`'s cell."""
        if colour in self.marking:
            return MARK
        if (label, colour) in self.columns:
            return DECORATION
        if colour in self.colours:
            return DECORATION if others_marked else DOUBTFUL
        if is_neutral(colour) and others_marked:
            return DECORATION
        return MARK


NO_DECORATION = Decoration()
