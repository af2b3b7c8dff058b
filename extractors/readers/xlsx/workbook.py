"""openpyxl's workbook load, without the styling openpyxl adds to merged ranges for saving them again.

openpyxl 3.1.5's `load_workbook` calls `MergedCellRange.format()` for every merged range of every sheet. It
copies the top-left cell's border to the cells on the range's edges and its protection to every cell of the
range, so that a workbook saved again looks the same. Each assignment goes through openpyxl's style tables
(hashing Border and Protection objects). On the merge-heavy forms vendors send, this was 35-40% of loading a
workbook (103 sample workbooks: 1.40 s with it, 0.83-1.15 s without).

The reader takes values, fonts, fills, merges, comments and shapes, never borders or protection. So
`load_for_reading` skips that copying: `MergedCellRange.format` is wrapped once, and the wrapper does nothing
while the calling thread is inside `load_for_reading`. Everywhere else it is openpyxl's own method: the
register's workbooks are read and written with every style (tests/test_reader_xlsx.py). The merged ranges
themselves, and the `MergedCell` placeholders of their other cells, are made before `format()` and stay.
"""
from __future__ import annotations

import threading
from io import BytesIO

import openpyxl
from openpyxl.worksheet.merge import MergedCellRange

_loading = threading.local()


def _format_unless_loading_for_reading(self: MergedCellRange) -> None:
    if not getattr(_loading, "active", False):
        _openpyxl_format(self)


_openpyxl_format = MergedCellRange.format
MergedCellRange.format = _format_unless_loading_for_reading


def load_for_reading(data: bytes):
    """`openpyxl.load_workbook` as the reader needs it: cached values (no formula is evaluated), rich text,
    no macros or external links, and no border or protection copied into merged ranges."""
    _loading.active = True
    try:
        return openpyxl.load_workbook(BytesIO(data), data_only=True, rich_text=True, keep_vba=False,
                                      keep_links=False)
    finally:
        _loading.active = False
