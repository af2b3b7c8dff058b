"""The embedded SQLite store: every submission with its items, supersession, failures, the living register.

One file, `<out>/mdsgap.sqlite`. Documents are kept whole (`Document.to_dict` JSON) plus a normalised
`items` table for queries. A re-submission of the same vendor + product + family supersedes the older one
(`superseded_by`, `is_current`); history is never deleted.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from extractors.ledger import ledger_series
from extractors.model import Document
from extractors.text import organization_key
from pipeline.config import REVIEWER_COLUMNS, STORE_NAME

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256          TEXT NOT NULL UNIQUE,
    document_id     TEXT NOT NULL,
    source_file     TEXT NOT NULL,
    family          TEXT,
    form_id         TEXT,
    form_version    TEXT,
    vendor          TEXT,
    product         TEXT,
    product_version TEXT,
    created         TEXT,
    submission_key  TEXT NOT NULL,
    ingested_at     TEXT NOT NULL,
    is_current      INTEGER NOT NULL DEFAULT 1,
    superseded_by   TEXT,
    doc_json        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_key ON documents(submission_key);
CREATE TABLE IF NOT EXISTS items (
    document_id     TEXT NOT NULL,
    position        INTEGER NOT NULL,
    item_id         TEXT NOT NULL,
    number_printed  TEXT,
    question        TEXT,
    answer          TEXT,
    answer_status   TEXT,
    answer_raw      TEXT,
    remark          TEXT,
    remark_ref      TEXT,
    first_date      TEXT,
    target_date     TEXT,
    second_answer   TEXT,
    second_date     TEXT,
    confidence      REAL,
    needs_review    INTEGER,
    review_reason   TEXT,
    concept         TEXT,
    catalogue_id    TEXT,
    known           INTEGER,
    location        TEXT,
    PRIMARY KEY (document_id, position)
);
CREATE INDEX IF NOT EXISTS items_item ON items(item_id);
CREATE TABLE IF NOT EXISTS failures (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256      TEXT,
    source_file TEXT NOT NULL,
    reason      TEXT NOT NULL,
    kind        TEXT,
    failed_at   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS register (
    risk_id     TEXT PRIMARY KEY,
    row_json    TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reviews (
    risk_id     TEXT PRIMARY KEY,
    values_json TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS assessments (
    assessment_id TEXT PRIMARY KEY,
    row_json      TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    as_of       TEXT,
    summary_json TEXT
);
"""

_ITEM_COLUMNS = ["item_id", "number_printed", "question", "answer", "answer_status", "answer_raw", "remark",
                 "remark_ref", "first_date", "target_date", "second_answer", "second_date", "confidence",
                 "needs_review", "review_reason", "concept", "catalogue_id", "known"]


def submission_key(doc: Document) -> str:
    """Which earlier submission a document replaces: same family, vendor and product (names normalised)."""
    if doc.family == "device_ledger":  # the hospital's own list: 機器台帳_2026 replaces 機器台帳_2025
        return _ledger_key(doc.source_file)
    if doc.family == "vuln_feed":  # a newer file of the same name replaces the older one (years are separate feeds)
        return f"{doc.family}|{organization_key(Path(doc.source_file).stem)}"
    vendor, product = organization_key(doc.vendor), organization_key(doc.product)
    if not vendor and not product:
        return f"sha:{doc.sha256}"  # nothing to compare by: it stands alone
    return f"{doc.family}|{vendor}|{product}"


def _ledger_key(source_file: str) -> str:
    return f"device_ledger|{ledger_series(source_file)[0]}"


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


@dataclass
class StoredDocument:
    document_id: str
    sha256: str
    source_file: str
    vendor: str
    product: str
    family: str
    created: str
    ingested_at: str
    is_current: bool
    superseded_by: str


class Store:
    """Open with `Store.open(out_dir)`; use as a context manager or call close()."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.executescript(SCHEMA)

    @classmethod
    def open(cls, out_dir: Path) -> "Store":
        return cls(Path(out_dir) / STORE_NAME)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- documents -------------------------------------------------------------------------------

    def has_sha(self, sha256: str) -> bool:
        return self.conn.execute("SELECT 1 FROM documents WHERE sha256 = ?", (sha256,)).fetchone() is not None

    def save_document(self, doc: Document, ingested_at: str | None = None) -> None:
        """Store one submission and its items in one transaction, then settle which one is current."""
        if self.has_sha(doc.sha256):
            return
        key = submission_key(doc)
        with self.conn:
            self.conn.execute(
                "INSERT INTO documents (sha256, document_id, source_file, family, form_id, form_version, vendor,"
                " product, product_version, created, submission_key, ingested_at, doc_json)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (doc.sha256, doc.document_id, doc.source_file, doc.family, doc.form_id, doc.form_version,
                 doc.vendor, doc.product, doc.product_version, doc.created.isoformat() if doc.created else "",
                 key, ingested_at or _now(), json.dumps(doc.to_dict(), ensure_ascii=False, default=str)),
            )
            self.conn.executemany(
                f"INSERT INTO items (document_id, position, {', '.join(_ITEM_COLUMNS)}, location)"
                f" VALUES (?, ?, {', '.join('?' for _ in _ITEM_COLUMNS)}, ?)",
                [(doc.document_id, pos, *[_sql_value(getattr(it, c)) for c in _ITEM_COLUMNS],
                  str(it.location) if it.location else "")
                 for pos, it in enumerate(doc.items)],
            )
            if doc.family == "device_ledger":
                for stale in self._rekey_ledgers():
                    self._settle(stale)
            self._settle(key)

    def _rekey_ledgers(self) -> set[str]:
        """Ledgers stored under an older key (their whole file name, before dated names were one ledger) move to
        their ledger's key; returns the keys to settle again."""
        touched: set[str] = set()
        for r in self.conn.execute("SELECT seq, source_file, submission_key FROM documents"
                                   " WHERE family = 'device_ledger'").fetchall():
            key = _ledger_key(r["source_file"])
            if key != r["submission_key"]:
                self.conn.execute("UPDATE documents SET submission_key = ? WHERE seq = ?", (key, r["seq"]))
                touched |= {key, r["submission_key"]}
        return touched

    def _settle(self, key: str) -> None:
        """Newest submission of a key is current; each older one points to the next newer one.

        Newer = later 作成日 (the ingestion date stands in when the form has none), then later ingestion. Device
        ledgers have no 作成日: the dates their file names give order them when every file of the ledger has one
        (「機器台帳_2025」 dropped after 「機器台帳_20260401」 stays older), else the later ingestion is newer.
        """
        rows = self.conn.execute(
            "SELECT seq, document_id, created, ingested_at, family, source_file FROM documents"
            " WHERE submission_key = ?", (key,)
        ).fetchall()
        named = [ledger_series(r["source_file"])[1] if r["family"] == "device_ledger" else None for r in rows]
        if rows and all(named):
            ordered = [r for _, r in sorted(zip(named, rows), key=lambda p: (p[0], p[1]["seq"]))]
        else:
            ordered = sorted(rows, key=lambda r: (r["created"] or r["ingested_at"][:10], r["seq"]))
        for older, newer in zip(ordered, ordered[1:]):
            self.conn.execute("UPDATE documents SET is_current = 0, superseded_by = ? WHERE seq = ?",
                              (newer["document_id"], older["seq"]))
        if ordered:
            self.conn.execute("UPDATE documents SET is_current = 1, superseded_by = NULL WHERE seq = ?",
                              (ordered[-1]["seq"],))

    def current_documents(self) -> list[Document]:
        """The current vendor documents (forms). Device ledgers are the hospital's own: `current_ledgers`;
        feeds and SBOMs: `current_feeds`."""
        rows = self.conn.execute("SELECT doc_json FROM documents WHERE is_current = 1"
                                 " AND COALESCE(family, '') NOT IN ('device_ledger', 'vuln_feed', 'sbom')"
                                 " ORDER BY seq").fetchall()
        return [Document.from_dict(json.loads(r["doc_json"])) for r in rows]

    def current_feeds(self) -> list[Document]:
        """The current vulnerability feeds (family vuln_feed) and vendor SBOMs (family sbom): records for the
        vulnerability matching (rules.vuln_match), not forms with items."""
        rows = self.conn.execute("SELECT doc_json FROM documents WHERE is_current = 1"
                                 " AND family IN ('vuln_feed', 'sbom') ORDER BY seq").fetchall()
        return [Document.from_dict(json.loads(r["doc_json"])) for r in rows]

    def current_ledgers(self) -> list[Document]:
        """The current device ledgers (family device_ledger)."""
        rows = self.conn.execute("SELECT doc_json FROM documents WHERE is_current = 1"
                                 " AND family = 'device_ledger' ORDER BY seq").fetchall()
        return [Document.from_dict(json.loads(r["doc_json"])) for r in rows]

    def document(self, document_id: str) -> Document | None:
        row = self.conn.execute("SELECT doc_json FROM documents WHERE document_id = ?", (document_id,)).fetchone()
        return Document.from_dict(json.loads(row["doc_json"])) if row else None

    def history(self) -> list[StoredDocument]:
        rows = self.conn.execute("SELECT * FROM documents ORDER BY seq").fetchall()
        return [StoredDocument(r["document_id"], r["sha256"], r["source_file"], r["vendor"] or "",
                               r["product"] or "", r["family"] or "", r["created"] or "", r["ingested_at"],
                               bool(r["is_current"]), r["superseded_by"] or "") for r in rows]

    def document_rows(self) -> dict[str, dict]:
        """Every stored submission's bookkeeping (no document body), by document_id, oldest first."""
        rows = self.conn.execute(
            "SELECT seq, document_id, source_file, family, vendor, product, created, submission_key, ingested_at,"
            " is_current, superseded_by FROM documents ORDER BY seq").fetchall()
        return {r["document_id"]: dict(r) for r in rows}

    def item_rows(self, document_id: str) -> list[dict]:
        rows = self.conn.execute("SELECT * FROM items WHERE document_id = ? ORDER BY position",
                                 (document_id,)).fetchall()
        return [dict(r) for r in rows]

    # --- failures --------------------------------------------------------------------------------

    def record_failure(self, source_file: str, reason: str, kind: str = "", sha256: str = "") -> None:
        with self.conn:
            self.conn.execute("INSERT INTO failures (sha256, source_file, reason, kind, failed_at)"
                              " VALUES (?,?,?,?,?)", (sha256, source_file, reason, kind, _now()))

    def failures(self) -> list[dict]:
        return [dict(r) for r in self.conn.execute("SELECT * FROM failures ORDER BY id").fetchall()]

    # --- living register -------------------------------------------------------------------------

    def register_rows(self) -> dict[str, dict]:
        rows = self.conn.execute("SELECT risk_id, row_json FROM register").fetchall()
        return {r["risk_id"]: json.loads(r["row_json"]) for r in rows}

    def save_register_rows(self, rows: list[dict]) -> None:
        now = _now()
        with self.conn:
            self.conn.executemany(
                "INSERT INTO register (risk_id, row_json, updated_at) VALUES (?,?,?)"
                " ON CONFLICT(risk_id) DO UPDATE SET row_json = excluded.row_json, updated_at = excluded.updated_at",
                [(r["risk_id"], json.dumps(r, ensure_ascii=False, default=str), now) for r in rows],
            )

    def reviews(self) -> dict[str, dict[str, str]]:
        rows = self.conn.execute("SELECT risk_id, values_json FROM reviews").fetchall()
        return {r["risk_id"]: json.loads(r["values_json"]) for r in rows}

    def save_reviews(self, reviews: dict[str, dict[str, str]]) -> None:
        now = _now()
        with self.conn:
            self.conn.executemany(
                "INSERT INTO reviews (risk_id, values_json, updated_at) VALUES (?,?,?)"
                " ON CONFLICT(risk_id) DO UPDATE SET values_json = excluded.values_json,"
                " updated_at = excluded.updated_at",
                [(rid, json.dumps({c: v.get(c, "") for c in REVIEWER_COLUMNS}, ensure_ascii=False), now)
                 for rid, v in reviews.items()],
            )

    def assessment_rows(self) -> dict[str, dict]:
        """The rows of the risk-assessment sheet (pipeline.risk_sheet) by 評価ID, reviewer columns included."""
        rows = self.conn.execute("SELECT assessment_id, row_json FROM assessments").fetchall()
        return {r["assessment_id"]: json.loads(r["row_json"]) for r in rows}

    def save_assessment_rows(self, rows: dict[str, dict]) -> None:
        """Replace the stored sheet (the caller keeps every row that holds a reviewer's text)."""
        now = _now()
        with self.conn:
            self.conn.execute("DELETE FROM assessments")
            self.conn.executemany(
                "INSERT INTO assessments (assessment_id, row_json, updated_at) VALUES (?,?,?)",
                [(key, json.dumps(row, ensure_ascii=False, default=str), now) for key, row in rows.items()],
            )

    # --- runs ------------------------------------------------------------------------------------

    def start_run(self, as_of: dt.date) -> int:
        with self.conn:
            cur = self.conn.execute("INSERT INTO runs (started_at, as_of) VALUES (?, ?)", (_now(), as_of.isoformat()))
        return int(cur.lastrowid)

    def finish_run(self, run_id: int, summary: dict) -> None:
        with self.conn:
            self.conn.execute("UPDATE runs SET finished_at = ?, summary_json = ? WHERE id = ?",
                              (_now(), json.dumps(summary, ensure_ascii=False, default=str), run_id))

    def last_run_id(self) -> int:
        """The newest run's id, finished or not (0 before the first run)."""
        row = self.conn.execute("SELECT MAX(id) FROM runs").fetchone()
        return int(row[0] or 0)

    def last_run_started(self) -> str | None:
        """When the newest run started (ISO time), finished or not."""
        row = self.conn.execute("SELECT started_at FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def last_finished_as_of(self) -> str | None:
        """The evaluation date (ISO) of the newest finished run."""
        row = self.conn.execute("SELECT as_of FROM runs WHERE finished_at IS NOT NULL AND as_of IS NOT NULL"
                                " ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def last_run_summary(self, after: int = 0) -> dict | None:
        """The summary recorded by the newest finished run with an id above `after`."""
        row = self.conn.execute("SELECT summary_json FROM runs WHERE id > ? AND summary_json IS NOT NULL"
                                " ORDER BY id DESC LIMIT 1", (after,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None


def _sql_value(value):
    if isinstance(value, bool):
        return int(value)
    return value
