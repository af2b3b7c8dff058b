"""A run with nothing new decides so before Prefect, spaCy or a worker starts, and rewrites no output."""
from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, subprocess_env

# Runs `mdsgap` and, at exit, notes which heavy packages this process imported.
_WRAPPER = """\
import atexit, json, sys
marker = sys.argv.pop(1)
def note():
    heavy = sorted({m.split('.')[0] for m in sys.modules} & {'prefect', 'spacy', 'uvicorn'})
    open(marker, 'w').write(json.dumps(heavy))
atexit.register(note)
from pipeline.cli import app
sys.argv[0] = 'mdsgap'
app()
"""


def _mdsgap(tmp_path: Path, marker: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-c", _WRAPPER, str(marker), *args], cwd=tmp_path, text=True,
                          capture_output=True, timeout=600,
                          env=subprocess_env(tmp_path / ".prefect", PYTHONPATH=str(ROOT), COLUMNS="200"))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


def _outputs(out: Path) -> dict[str, int]:
    """mtime of every output file (the store, the lock and the run logs change on every run)."""
    skip = {"mdsgap.sqlite", "mdsgap.sqlite-wal", "mdsgap.sqlite-shm", ".mdsgap.lock"}
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in out.rglob("*")
            if p.is_file() and p.name not in skip and "logs" not in p.relative_to(out).parts}


def test_nothing_new_runs_without_prefect_and_keeps_outputs(tmp_path, sample_inbox):
    sources = sorted(p for p in sample_inbox.glob("*.xlsx"))[:2]
    assert len(sources) == 2
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    config = tmp_path / "mdsgap.yaml"
    config.write_text("stable_interval: 0.2\nstable_quiet: 0\n", encoding="utf-8")
    for src in sources:
        shutil.copy2(src, inbox / src.name)
    broken = b"PK\x03\x04 this workbook was cut off by the mail gateway"
    (inbox / "提出票_破損.xlsx").write_bytes(broken)
    marker = tmp_path / "heavy.json"
    run = ("run", "--inbox", str(inbox), "--out", str(out), "--as-of", "2026-10-01", "--config", str(config))

    first = _mdsgap(tmp_path, marker, *run)
    assert (inbox / "failed" / "提出票_破損.xlsx").is_file()
    assert "prefect" in json.loads(marker.read_text())  # the first run is the full flow
    assert "新たに読み取ったファイル: 2 件" in first.stdout
    before = _outputs(out)
    assert any(name.endswith(".xlsx") for name in before) and any(name.endswith(".html") for name in before)
    logs_before = set((out / "logs").glob("run-*.log"))

    # The same bytes dropped again: known content, nothing to read.
    for src in sources:
        shutil.copy2(src, inbox / src.name)
    (inbox / "提出票_破損.xlsx").write_bytes(broken)  # a file that failed the same way: fails again
    again = _mdsgap(tmp_path, marker, *run)
    assert json.loads(marker.read_text()) == []  # neither Prefect (nor its server) nor spaCy was imported
    assert "新たに読み取ったファイル: 0 件" in again.stdout
    assert "読み取り済みの内容のため省略: 2 件" in again.stdout
    first_counts = [line for line in first.stdout.splitlines() if "現在有効な書類" in line or "指摘:" in line]
    assert first_counts and all(line in again.stdout for line in first_counts)  # the same numbers
    assert _outputs(out) == before  # no output rewritten
    assert not [p for p in inbox.iterdir() if p.is_file()]
    assert len(list((inbox / "processed").iterdir())) == 4  # both copies of both files: nothing lost
    failed = sorted(p.name for p in (inbox / "failed").iterdir())
    assert len([n for n in failed if n.endswith(".xlsx")]) == 2 and len(failed) == 4  # each with its .error.txt
    assert "読み取れなかったファイル 1 件" in again.stdout
    new_logs = set((out / "logs").glob("run-*.log")) - logs_before
    assert len(new_logs) == 1 and "nothing new" in next(iter(new_logs)).read_text(encoding="utf-8")
    with sqlite3.connect(out / "mdsgap.sqlite") as conn:
        runs = conn.execute("SELECT finished_at, summary_json FROM runs ORDER BY id").fetchall()
        documents = conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        failures = conn.execute("SELECT COUNT(*) FROM failures").fetchone()[0]
    assert len(runs) == 2 and all(r[0] for r in runs) and documents == 2  # recorded once, nothing double-counted
    assert failures == 2  # one per run, as a full run records them
    assert json.loads(runs[1][1])["duplicates"] == [s.name for s in sources]

    # An empty inbox: the same.
    _mdsgap(tmp_path, marker, *run)
    assert json.loads(marker.read_text()) == [] and _outputs(out) == before

    # A reviewer saved the register: the run is a full one again (their edits are read).
    register = out / "risk_register.xlsx"
    register.write_bytes(register.read_bytes())
    _mdsgap(tmp_path, marker, *run)
    assert "prefect" in json.loads(marker.read_text())
    # A different date: a full run too (the register's dates change).
    _mdsgap(tmp_path, marker, *run[:-3], "2026-10-02", "--config", str(config))
    assert "prefect" in json.loads(marker.read_text())


def test_new_file_beside_known_ones_is_read_by_the_full_flow(tmp_path, sample_inbox):
    from pipeline.quick import quick_run

    sources = sorted(p for p in sample_inbox.glob("*.xlsx"))[:2]
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    assert quick_run(inbox, out, None, None) is None  # no earlier run: the full flow
    shutil.copy2(sources[0], inbox / sources[0].name)
    marker = tmp_path / "heavy.json"
    config = tmp_path / "mdsgap.yaml"
    config.write_text("stable_interval: 0.2\nstable_quiet: 0\n", encoding="utf-8")
    run = ("run", "--inbox", str(inbox), "--out", str(out), "--as-of", "2026-10-01", "--config", str(config))
    _mdsgap(tmp_path, marker, *run)
    shutil.copy2(sources[0], inbox / sources[0].name)
    shutil.copy2(sources[1], inbox / sources[1].name)
    second = _mdsgap(tmp_path, marker, *run)
    assert "prefect" in json.loads(marker.read_text())
    assert "新たに読み取ったファイル: 1 件" in second.stdout and "読み取り済みの内容のため省略: 1 件" in second.stdout


_HOSPITAL_RULE = """\
rules:
  - id: hospital.auto_lock_na
    title: 画面ロックが対象外
    category: {category}
    severity: 中
    condition: {{check: answer, concepts: [auto_lock], answer_in: [対象外]}}
    rationale: 当院では全端末で画面ロックを必須としている。
    recommendation: 画面ロックの設定方法を確認する。
    contract_clause: 乙は画面ロックの設定方法を甲に提示する。
"""


def test_config_digest_follows_the_extra_rule_files(tmp_path):
    from pipeline.quick import config_digest

    rule_dir = tmp_path / "hospital_rules"
    rule_dir.mkdir()
    rule_file = rule_dir / "local.yaml"
    rule_file.write_text(_HOSPITAL_RULE.format(category="option_dependent"), encoding="utf-8")
    config = tmp_path / "mdsgap.yaml"
    config.write_text("rules:\n  extra_rule_dirs: [hospital_rules]\n", encoding="utf-8")
    before = config_digest(config)
    assert config_digest(config) == before
    rule_file.write_text(_HOSPITAL_RULE.format(category="unsupported"), encoding="utf-8")
    assert config_digest(config) != before  # the config's own bytes are the same
    edited = config_digest(config)
    (rule_dir / "more.yml").write_text("rules: []\n", encoding="utf-8")
    added = config_digest(config)
    assert added != edited  # a rule file added
    (rule_dir / "notes.txt").write_text("メモ", encoding="utf-8")
    assert config_digest(config) == added  # not a rule file: the rules engine does not read it


def test_an_edited_extra_rule_file_makes_the_next_run_a_full_one(tmp_path, sample_inbox):
    """The configuration names a hospital's own rule folder. A rule file edited there since the last clean run
    is a change, as an edited configuration is: the next run is a full one (the rules run again with the
    edited rule), even with nothing new in the inbox."""
    source = sorted(sample_inbox.glob("*.xlsx"))[0]
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    rule_dir = tmp_path / "hospital_rules"
    rule_dir.mkdir()
    rule_file = rule_dir / "local.yaml"
    rule_file.write_text(_HOSPITAL_RULE.format(category="option_dependent"), encoding="utf-8")
    config = tmp_path / "mdsgap.yaml"
    config.write_text("stable_interval: 0.2\nstable_quiet: 0\nrules:\n  extra_rule_dirs: [hospital_rules]\n",
                      encoding="utf-8")
    marker = tmp_path / "heavy.json"
    run = ("run", "--inbox", str(inbox), "--out", str(out), "--as-of", "2026-10-01", "--config", str(config))
    shutil.copy2(source, inbox / source.name)
    _mdsgap(tmp_path, marker, *run)
    shutil.copy2(source, inbox / source.name)
    _mdsgap(tmp_path, marker, *run)
    assert json.loads(marker.read_text()) == []  # nothing new, the same rules: the quick run

    rule_file.write_text(_HOSPITAL_RULE.format(category="unsupported"), encoding="utf-8")
    _mdsgap(tmp_path, marker, *run)
    assert "prefect" in json.loads(marker.read_text())  # the edited rule is evaluated: a full run
    _mdsgap(tmp_path, marker, *run)
    assert json.loads(marker.read_text()) == []  # and then nothing changed again
