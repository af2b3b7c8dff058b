"""CSV / tab-separated text as Japanese Excel exports it: Shift_JIS (cp932), UTF-8 or UTF-8 with BOM.

`looks_like_csv(head)` is the content test the sniffer uses (no NUL bytes, text in one of those encodings, at
least two lines that split on the same delimiter into several fields); `read_csv(path) -> Grid` gives one
table whose cells carry Excel-style references ("C12"), so a ledger row read from a CSV is found in Excel too.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl.utils import get_column_letter

from extractors.grid import Cell, Grid, Table
from extractors.model import ExtractionError

ENCODINGS = ("utf-8-sig", "cp932")
DELIMITERS = (",", "\t")
MAX_ROWS = 200_000


def decode(data: bytes, partial: bool = False) -> tuple[str, str] | None:
    """(text, encoding) in the first encoding that decodes all of `data`; None when none does.

    `partial`: `data` is the start of a file, so a character cut at its end is dropped first."""
    if partial and b"\n" in data:
        data = data[: data.rfind(b"\n") + 1]
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return None


def delimiter_of(text: str) -> str | None:
    """The delimiter that splits the first lines into the same number (≥ 3) of fields, or None."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) < 2:
        return None
    best, best_score = None, 0
    for delim in DELIMITERS:
        try:
            counts = [len(row) for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=delim)]
        except csv.Error:
            continue
        wide = [n for n in counts if n >= 3]
        score = len(wide)
        if score >= 2 and score * 2 >= len(counts) and score > best_score:
            best, best_score = delim, score
    return best


def looks_like_csv(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    decoded = decode(head, partial=True)
    return decoded is not None and delimiter_of(decoded[0]) is not None


def read_csv(path: Path | str) -> Grid:
    path = Path(path)
    decoded = decode(path.read_bytes())
    if decoded is None:
        raise ExtractionError(
            "テキスト（CSV）ファイルの文字コードを判別できませんでした（Shift_JIS または UTF-8 で保存してください）。"
            "作成者に再出力を依頼してください。", "corrupt")
    text, encoding = decoded
    delim = delimiter_of(text) or ","
    rows: list[list[Cell]] = []
    for r, values in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delim), start=1):
        if r > MAX_ROWS:
            raise ExtractionError(f"CSV の行数が多すぎます（{MAX_ROWS:,} 行を超えています）。", "too_large")
        rows.append([Cell(text=v.strip(), ref=f"{get_column_letter(c)}{r}") for c, v in enumerate(values, start=1)])
    width = max((len(row) for row in rows), default=0)
    for r, row in enumerate(rows, start=1):
        row += [Cell(ref=f"{get_column_letter(c)}{r}") for c in range(len(row) + 1, width + 1)]
    table = Table(name=path.stem, rows=rows, kind="sheet")
    grid = Grid(source=path.name, format="csv", tables=[table])
    if encoding == "cp932":
        grid.warnings.append("CSV（Shift_JIS）として読み取りました")
    return grid
