"""The rules package is easy to change: no import circle, every rules module importable on its own, no module
over the size limit, and the concept mappings are rule data validated with a Japanese message."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from rules.concept_maps import MAPPINGS_FILE, concept_mappings, load_mappings
from rules.schema import ConfigError

ROOT = Path(__file__).resolve().parent.parent
RULES = sorted(p for p in (ROOT / "rules").glob("*.py") if p.name != "__init__.py")


def _imports(path: Path) -> set[str]:
    """rules modules `path` imports, at any level (function-local imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m in {f"rules.{p.stem}" for p in RULES}}


def test_no_import_circle_in_rules():
    graph = {f"rules.{p.stem}": _imports(p) for p in RULES}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    circles = [m for m in graph if reaches(m, m, {m})]
    assert not circles, f"modules on an import circle: {circles}"


@pytest.mark.parametrize("module", [f"rules.{p.stem}" for p in RULES])
def test_each_rules_module_imports_alone(module):
    proc = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_checks_register_from_their_own_modules():
    from rules.checks import CHECKS

    homes = {spec.fn.__module__ for spec in CHECKS.values()}
    assert "rules.checks" not in homes and len(homes) >= 5
    assert {"answer", "remark", "cross_answer", "facility_unbacked_yes", "auth_method_unnamed"} <= set(CHECKS)


@pytest.mark.parametrize("path", RULES, ids=lambda p: p.name)
def test_rules_modules_stay_small(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 500


# ------------------------------------------------------------------------------------------ mappings

def test_shipped_mappings_name_catalogue_concepts():
    m = concept_mappings()
    assert m.facility_backing and m.duty_targets and m.transport_words
    from rules.checks_cross import DUTY_TARGETS, FACILITY_BACKING, TRANSPORT_CONCEPTS, transports_named

    assert FACILITY_BACKING == {k: tuple(v) for k, v in m.facility_backing.items()}
    assert set(DUTY_TARGETS) == set(m.duty_targets) and TRANSPORT_CONCEPTS == tuple(m.transport_concepts)
    # The compiled words find the line types in an invented remark.
    named = {label for _, label, _ in transports_named("保守はipsec接続と専用回線で行います")}
    assert named == {"IPsec-VPN", "専用線"}


def _copy_with(tmp_path: Path, old: str, new: str) -> Path:
    text = MAPPINGS_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "concepts.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_misspelt_concept_is_refused_with_line_and_hint(tmp_path):
    path = _copy_with(tmp_path, "  account_cleanup: [access_control]", "  account_cleanup: [acess_control]")
    line = next(i for i, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "acess_control" in t)
    with pytest.raises(ConfigError) as info:
        load_mappings(path)
    message = str(info.value)
    assert f"{line}行目" in message and "acess_control" in message and "様式カタログにありません" in message
    assert "もしかして: access_control" in message


def test_misspelt_key_and_bad_pattern_are_refused(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_mappings(_copy_with(tmp_path, "duty_targets:", "duty_target:"))
    assert "不明な項目" in str(info.value) and "もしかして: duty_targets" in str(info.value)
    with pytest.raises(ConfigError) as info:
        load_mappings(_copy_with(tmp_path, 'pattern: "専用線|専用回線"', 'pattern: "専用線|(専用回線"'))
    assert "正規表現" in str(info.value) and "行目" in str(info.value)


# ------------------------------------------------------------------------------------------ no optional engine

def _disclosure(path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["製造業者による医療情報セキュリティ開示書 チェックリスト（ガイドライン第5.2版対応）"])
    ws.append(["製造業者", "架空精機工業株式会社"])
    ws.append(["製品名称", "架空画像ビューア"])
    ws.append(["No.", "確認項目", "はい", "いいえ", "対象外", "備考"])
    ws.append(["1", "扱う情報のリストを医療機関等に提示できるか？", "○", "", "", ""])
    ws.append(["3", "離席時の不正入力防止の機能があるか？", "", "○", "", ""])
    wb.save(path)


def test_files_stay_in_the_inbox_when_the_rules_engine_cannot_be_imported(prefect_harness, tmp_path, monkeypatch):
    """The rules engine is part of the package, never optional: without it the run fails and no file is moved
    to processed/ as if its risks had been judged."""
    from pipeline.flow import process_inbox

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    _disclosure(inbox / "disclosure.xlsx")
    monkeypatch.setitem(sys.modules, "rules.engine", None)  # `import rules.engine` now fails
    with pytest.raises(ImportError):
        process_inbox(inbox=inbox, out=out, as_of=__import__("datetime").date(2026, 10, 1), reports=False)
    assert (inbox / "disclosure.xlsx").is_file()
    assert not (inbox / "processed").exists() or not any((inbox / "processed").iterdir())
