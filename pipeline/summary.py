"""What one run did (printed by the CLI, logged, kept in the store). No Prefect here: a run with nothing
new (pipeline.quick) builds one without starting Prefect."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class RunSummary:
    as_of: str
    files_found: int = 0
    read: list[str] = field(default_factory=list)  # newly stored
    duplicates: list[str] = field(default_factory=list)  # content already in the store
    failures: list[tuple[str, str]] = field(default_factory=list)  # (file name, Japanese reason)
    waiting: list[str] = field(default_factory=list)  # still being written: left for the next run
    items_read: int = 0
    current_documents: int = 0
    answer_rows: int = 0
    findings: int = 0
    findings_by_severity: dict[str, int] = field(default_factory=dict)
    resolved: int = 0
    rules_ran: bool = False
    outputs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Seconds per stage: read / interpret (summed over documents, in the workers), extract (wall time of
    # the extraction loop, storing included), store, rules, answers, register, reports, flow (whole body);
    # pdf: worker seconds spent on the PDFs read (for pages per second).
    timings: dict[str, float] = field(default_factory=dict)
    pages: int = 0  # PDF pages read (for pages per second)
    log_file: str = ""  # this run's log (pipeline.runlog), "" when none could be written

    def to_dict(self) -> dict:
        return asdict(self)


REPORTS_STAMP = ".reports-inputs.json"  # in <out>: what the current reports and memos were made from
_REPORT_CODE = ["reports.py", "memo.py", "report_data.py", "report_names.py", "report_svg.py", "templates",
                "inspection.py", "risk_sheet.py", "report_devices.py"]


def report_inputs_key(store) -> str:
    """A digest of everything the reports and memos are made from: the current and directly replaced
    submissions, the register rows (dates and reviewer columns included) and the report code itself."""
    h = hashlib.sha256()
    for row in store.conn.execute(
            "SELECT sha256, is_current FROM documents WHERE is_current = 1 OR superseded_by IN"
            " (SELECT document_id FROM documents WHERE is_current = 1) ORDER BY seq"):
        h.update(f"{row[0]}:{row[1]};".encode())
    rows = store.register_rows()
    h.update(json.dumps([rows[k] for k in sorted(rows)], ensure_ascii=False, sort_keys=True,
                        default=str).encode())
    sheet = store.assessment_rows()  # the risk-assessment sheet (inspection pack)
    h.update(json.dumps([sheet[k] for k in sorted(sheet)], ensure_ascii=False, sort_keys=True,
                        default=str).encode())
    here = Path(__file__).parent
    for name in _REPORT_CODE:
        for path in sorted((here / name).rglob("*")) if (here / name).is_dir() else [here / name]:
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()
