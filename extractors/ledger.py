"""A hospital's device ledger (機器台帳): from the common Grid to a list of `Device` rows with provenance.

A ledger is recognised by the kind of table, not by name: a header row (not necessarily the first) whose cells
are column labels of at least three ledger roles, one of them naming the device (機器名 / 装置名 / ホスト名, or
its 製品名 / 型番) and one a fact a ledger records about it (OS, maker, maintenance vendor, network, remote
maintenance) — the maker or product is not required: a hospital's list of 機器名 / OS / 設置場所 / 保守事業者 is
a ledger too — followed by at least two device rows. A label written as a key (「製品名：」) is not a column; a
header row that also asks or answers (質問 / 回答 / 確認項目 …) belongs to a form, never to a ledger, and a
device "name" that is an answer word (はい / 有 / ○) is no device row. Header cells may be merged: a column's
label is the text of its own header cell (or the merged cell covering it) joined with the label above it when
that one is a merged group heading. Every sheet with such a header row is read; rows below it with a device
name, product or maker are devices. When the ledger has no maker column, a device's vendor is its maintenance
vendor (`vendor_from = "maintenance_vendor"`): matching it to the maker's MDS/SDS is then uncertain and a review
item (rules.device_match).
"""
from __future__ import annotations

import datetime as dt
import re

from extractors.grid import Cell, Grid, Table
from extractors.model import VENDOR_FROM_MAINTENANCE, Device, Document, Location
from extractors.text import ERA_BASE, cached_when_short, normalize_text
from extractors.vocabulary import ANSWER_OR_MARK_WORDS, is_na_mark

# Column role -> header words (compared after NFKC with spaces removed). Checked in this order: the first
# role whose word a label holds wins (「保守事業者」 is the maintenance vendor, not the remote-maintenance flag).
HEADER_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("maintenance_vendor", ("保守事業者", "保守業者", "保守会社", "保守ベンダ", "保守委託先", "保守窓口")),
    ("remote_maintenance", ("リモート保守", "リモートメンテナンス", "遠隔保守", "リモート接続", "遠隔監視")),
    ("network", ("ネットワーク接続", "ネットワーク", "LAN接続", "院内LAN", "接続有無", "ネットワーク区分")),
    ("device_name", ("機器名", "装置名", "機器名称", "装置名称", "システム名", "端末名", "ホスト名", "コンピュータ名")),
    ("vendor", ("製造業者", "製造元", "メーカー", "メーカ", "製造販売業者", "製造会社")),
    ("product", ("製品名", "製品名称", "商品名", "品名")),
    ("model", ("型番", "型式", "モデル")),
    ("os", ("オペレーティングシステム", "OS")),
    ("department", ("設置場所", "設置部署", "部署", "部門", "診療科", "設置先", "管理部署")),
)
_OS_WORD = re.compile(r"(?<![A-Za-z])OS(?![A-Za-z])")
IDENTITY_ROLES = {"device_name", "product", "model"}
FACT_ROLES = {"os", "vendor", "maintenance_vendor", "network", "remote_maintenance"}
# Words of a form's question table: a header row holding one is a form's, never a ledger's.
FORM_HEADER_WORDS = ("質問", "設問", "回答", "確認項目", "確認結果", "チェック項目", "対策項目", "評価項目", "QUESTION",
                     "ANSWER", "RESPONSE")
_HEADER_WORD_SET = frozenset(w for _, words in HEADER_WORDS for w in words)
HEADER_SEARCH_ROWS = 30
MIN_ROLES = 3
MIN_DEVICE_ROWS = 2


def _label_key(text: str) -> str:
    return re.sub(r"\s", "", normalize_text(text))


@cached_when_short(4096)
def role_of(label: str) -> str:
    """The ledger column role a header label names, or "". Every table of every file is tried as a ledger, so
    the same short labels come again and again: each is looked up once."""
    key = _label_key(label)
    if not key or len(key) > 30 or key.endswith((":", "：")):  # 「製品名：」 is a key with its value beside it
        return ""
    for role, words in HEADER_WORDS:
        for word in words:
            if word == "OS":
                if _OS_WORD.search(key):
                    return role
            elif word in key:
                return role
    return ""


def _effective(table: Table, r: int, c: int) -> Cell:
    cell = table.rows[r][c]
    if cell.merged_into is not None:
        mr, mc = cell.merged_into
        if 0 <= mr < len(table.rows) and 0 <= mc < len(table.rows[mr]):
            return table.rows[mr][mc]
    return cell


def _labels(table: Table, r: int) -> list[str]:
    """Column labels of row r as a header row: its own text, preceded by a merged group heading above it."""
    labels = []
    for c in range(len(table.rows[r])):
        own = _effective(table, r, c).text.strip()
        above = ""
        if r > 0 and c < len(table.rows[r - 1]):
            up = _effective(table, r - 1, c)
            spans_columns = up.colspan > 1 or table.rows[r - 1][c].merged_into is not None
            if spans_columns and up is not _effective(table, r, c):
                above = up.text.strip()
        labels.append(f"{above} {own}".strip() if own else "")
    return labels


def _roles(labels: list[str]) -> dict[str, int]:
    """role -> column of the first label carrying it."""
    found: dict[str, int] = {}
    for c, label in enumerate(labels):
        role = role_of(label.split(" ")[-1]) or role_of(label)
        if role and role not in found:
            found[role] = c
    return found


def is_ledger_header(roles: dict[str, int], labels: list[str] | None = None) -> bool:
    """The roles of a header row make a ledger's: the device named, a fact about it, three roles at least."""
    if len(roles) < MIN_ROLES or not roles.keys() & IDENTITY_ROLES or not roles.keys() & FACT_ROLES:
        return False
    if "device_name" not in roles and "os" not in roles and not roles.keys() & {"network", "remote_maintenance"}:
        return False  # 製造業者 / 製品名 / 型番 alone: the header fields of a form, not a list of devices
    keys = [_label_key(x).upper() for x in labels or () if x]
    return not any(word in key for key in keys for word in FORM_HEADER_WORDS)


def _identity_value(table: Table, r: int, roles: dict[str, int]) -> str:
    for role in ("device_name", "product", "model"):
        if role in roles and (text := _text(table, r, roles[role])):
            return text
    return ""


def _is_device_row(table: Table, r: int, roles: dict[str, int], header_keys: set[str]) -> bool:
    """A row below the header that names a device (not an answer word, not the header repeated)."""
    name = _identity_value(table, r, roles)
    if not name:
        return False
    key = _label_key(name)
    word = key.casefold()
    if word in ANSWER_OR_MARK_WORDS or is_na_mark(name) or key in header_keys:
        return False
    return key not in _HEADER_WORD_SET  # a label (「型番」) under a label is a form's key column, not a device


def _device_rows(table: Table, h: int, roles: dict[str, int], labels: list[str]) -> list[int]:
    keys = {_label_key(x) for x in labels if x}
    return [r for r in range(h + 1, len(table.rows)) if _is_device_row(table, r, roles, keys)]


def find_header(table: Table) -> tuple[int, dict[str, int], list[str]] | None:
    best = None
    for r in range(min(len(table.rows), HEADER_SEARCH_ROWS)):
        labels = _labels(table, r)
        roles = _roles(labels)
        if not is_ledger_header(roles, labels) or (best is not None and len(roles) <= len(best[1])):
            continue
        if len(_device_rows(table, r, roles, labels)) >= MIN_DEVICE_ROWS:
            best = (r, roles, labels)
    return best


_REF_ROW = re.compile(r"^[A-Z]{1,3}(\d+)$")


def _row_number(row: list[Cell], index: int) -> int:
    for cell in row:
        if m := _REF_ROW.match(cell.ref or ""):
            return int(m.group(1))
    return index + 1


def _text(table: Table, r: int, c: int | None) -> str:
    if c is None or c >= len(table.rows[r]):
        return ""
    return normalize_text(_effective(table, r, c).text)


def read_table(table: Table, source: str, header: tuple[int, dict[str, int], list[str]]) -> list[Device]:
    """The devices under `header` (find_header's answer for `table`)."""
    h, roles, labels = header
    header_keys = {_label_key(x) for x in labels if x}
    devices = []
    for r in range(h + 1, len(table.rows)):
        row = table.rows[r]
        values = {role: _text(table, r, c) for role, c in roles.items()}
        if not any(values.get(k) for k in ("device_name", "product", "model", "vendor")):
            continue
        if _identity_value(table, r, roles) and not _is_device_row(table, r, roles, header_keys):
            continue  # the header repeated (a printed ledger), or a word that names no device
        extra = {labels[c]: normalize_text(cell.text) for c, cell in enumerate(row)
                 if c < len(labels) and labels[c] and c not in roles.values() and cell.text.strip()}
        name_col = roles.get("device_name", roles.get("product", next(iter(roles.values()))))
        ref = row[name_col].ref if name_col < len(row) else ""
        device = Device(row=_row_number(row, r), extra=extra,
                        location=Location(file=source, sheet=table.name, cell=ref or None, row=_row_number(row, r)),
                        **{k: v for k, v in values.items() if k != "os"}, os_raw=values.get("os", ""))
        if not device.vendor and device.maintenance_vendor:
            device.vendor, device.vendor_from = device.maintenance_vendor, VENDOR_FROM_MAINTENANCE
        if not device.vendor:
            device.needs_review = True
            device.review_reason = "製造業者が記載されていないため、開示書との照合ができません"
        devices.append(device)
    return devices


def read_ledger(grid: Grid, sha256: str) -> Document | None:
    """A device_ledger Document when the grid is a device ledger, else None (the file is read as a form)."""
    found = [(table, header) for table in grid.tables
             if not table.hidden and (header := find_header(table)) is not None]
    if not found:
        return None
    doc = Document(source_file=grid.source, sha256=sha256, family="device_ledger", format=grid.format,
                   warnings=list(grid.warnings))
    for table, header in found:
        doc.devices += read_table(table, grid.source, header)
    if not doc.devices:
        doc.warnings.append("機器台帳の見出し行はありますが、機器の行がありません")
    return doc


# --- which ledger a file is: the same ledger at another date, or another ledger ----------------------------------

# In a ledger's file name, what tells its date or version apart from the same ledger's other files.
_NAME_YMD = re.compile(r"(?<!\d)((?:19|20)\d{2})[-_.年/]?(\d{1,2})[-_.月/]?(\d{1,2})日?(?!\d)")
_NAME_YM = re.compile(r"(?<!\d)((?:19|20)\d{2})[-_.年/](\d{1,2})月?(?!\d)")
_NAME_YEAR = re.compile(r"(?<![\dA-Za-z])(?:FY)?((?:19|20)\d{2})(?:年度?)?(?!\d)", re.IGNORECASE)
_NAME_ERA = re.compile(r"(令和|平成|(?<![A-Za-z])R|(?<![A-Za-z])H)(\d{1,2}|元)(?:年度?)?(?!\d)")
_NAME_VERSION = re.compile(r"(?i)(?<![a-z])(?:ver|rev|v)\.?\s*\d+(?:\.\d+)*|第\d+版|[(（]\d+[)）]|最新版?|改訂版?|更新版?|"
                           r"コピー|copy(?:\s*of)?|修正版?")
_NAME_SEPARATORS = re.compile(r"[\s_\-.・,、()（）\[\]［］【】「」]+")


def _era_date(m: re.Match) -> dt.date:
    return dt.date(ERA_BASE[m.group(1)] + (1 if m.group(2) == "元" else int(m.group(2))), 4, 1)  # 年度: from April


# The dates a ledger's file name can give, most precise first, each with how its match becomes a date.
_NAME_DATES = (
    (_NAME_YMD, lambda m: dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))),
    (_NAME_YM, lambda m: dt.date(int(m.group(1)), int(m.group(2)), 1)),
    (_NAME_YEAR, lambda m: dt.date(int(m.group(1)), 1, 1)),
    (_NAME_ERA, _era_date),
)


def ledger_series(file_name: str) -> tuple[str, dt.date | None]:
    """The ledger a file is a version of, and the date its name gives (None when it gives none).

    「機器台帳_2025.xlsx」, 「機器台帳_20260401.xlsx」, 「機器台帳（令和8年度）最新版.xlsx」 are the same ledger at other dates,
    so the newer replaces the older; 「機器台帳_病棟.csv」 and 「機器台帳_放射線・検査.xlsx」 are other ledgers, both
    current. A name that is nothing but a date stays its own series."""
    stem = normalize_text(file_name.rsplit(".", 1)[0] if "." in file_name else file_name)
    found: dt.date | None = None
    rest = stem
    for pattern, to_date in _NAME_DATES:
        for m in pattern.finditer(rest):
            if found is None:
                try:
                    found = to_date(m)
                except (ValueError, KeyError):  # 2025-13-40: no date
                    pass
        rest = pattern.sub(" ", rest)
    rest = _NAME_VERSION.sub(" ", rest)
    series = _NAME_SEPARATORS.sub("", rest).casefold()
    return (series or _NAME_SEPARATORS.sub("", stem).casefold()), found
