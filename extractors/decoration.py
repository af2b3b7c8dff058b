"""Which cell fills in option columns are the form's decoration, not a vendor's mark.

Forms shade cells: header rows, section rows, a group row under which bullets are answered, and options
that do not apply to a row (対象外 greyed out on the 該当/非該当 rows). A vendor marks by singling out
one option of a row: a glyph, a circle, or a fill in a colour of its own. This module looks at one table
as a whole and tells, for a fill on an option cell, whether it is a mark:

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

from extractors.grid import Cell, Table
from extractors.text import normalize_text

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


def table_decoration(table: Table, header_rows: tuple[int, ...], options: dict[str, int]) -> Decoration:
    """The fills of `table` that are the form's, from its header rows and the body under the option columns."""
    from extractors.answer_cells import option_cell_evidence  # local: answers uses this module's verdicts

    deco = Decoration()
    if not options:
        return deco
    option_cols = set(options.values())
    body_start = max(header_rows) + 1 if header_rows else 0
    for r in header_rows:
        for cell in table.rows[r]:
            deco.colours.update(fill_colours(cell))
    lone: dict[str, set[str]] = {}
    beside_mark: dict[tuple[str, str], int] = {}
    marked_rows = 0
    for row in table.rows[body_start:]:
        for col, cell in enumerate(row):
            if col not in option_cols and cell.merged_into is None:
                deco.colours.update(fill_colours(cell))
        cells = {w: row[c] for w, c in options.items() if c < len(row) and row[c].merged_into is None}
        if not cells:
            continue
        texts_all = sum(1 for c in cells.values() if normalize_text(c.text)) >= 2
        marked = {w for w, c in cells.items() if option_cell_evidence(c, w, texts_all, True)[0] >= 0.5}
        marked_rows += bool(marked)
        fills = {w: fill_colours(c) for w, c in cells.items()}
        if len(cells) > 1 and len({fills[w] for w in cells}) == 1:
            continue  # every option cell shaded alike (or none): a shaded row
        filled = [w for w in cells if fills[w]]
        if len(filled) == 1 and not marked:
            for colour in fills[filled[0]]:
                lone.setdefault(colour, set()).add(filled[0])
        for w in filled:
            if marked - {w}:
                for colour in fills[w]:
                    beside_mark[(w, colour)] = beside_mark.get((w, colour), 0) + 1
    deco.marking = {colour for colour, words in lone.items() if len(words) >= 2}
    # A vendor who marks with glyphs or circles: a grey cell alone in a row is more likely the form's.
    if marked_rows >= 3:
        deco.colours.update(colour for colour in lone if is_neutral(colour) and colour not in deco.marking)
    deco.colours -= deco.marking
    deco.columns = {(w, colour) for (w, colour), n in beside_mark.items() if colour not in deco.marking and
                    (is_neutral(colour) or colour in deco.colours or (is_pale(colour) and n >= 2))}
    return deco
