"""Register integrity: nothing a reviewer relies on changes by accident.

A risk the run does not see becomes 解消 only when a newer submission of the same product was evaluated by the
same rule and no longer fires; otherwise it keeps its status and says why (今回未検出の理由). Runs the real
`mdsgap run` command several times over one output folder, on MDS files drawn by the sample renderer for an
invented vendor:

1. the first MDS (three unsupported controls, remote maintenance without an SDS); the reviewer edits rows;
2. the same store with one rule disabled in mdsgap.yaml;
3. a re-submission (newer 作成日, the product name printed full-width with a line break): two-factor fixed,
   access log now marked twice (a worse reading), time sync unchanged;
4. a later file whose product name reads differently (another product key) with every control fixed.
"""
from __future__ import annotations

import copy
import datetime as dt
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import load_workbook

from extractors import extract
from pipeline.config import REGISTER_NAME, RESOLVED_BY, RESOLVED_ON, STORE_NAME, UNSEEN_REASON
from pipeline.register import SHEET_REGISTER, update_register
from pipeline.store import Store
from rules.engine import coverage, evaluate
from rules.findings import Finding
from samples.office_xlsx import render_xlsx
from samples.spec import APPL, NA, NO, YES, Submission, mds_items, set_answer
from samples.styles import XLSX_STYLES
from samples.vendors import MDS52_TITLE, SDS52_TITLE, TWO_FACTOR
from tests.conftest import make_document, subprocess_env
from tests.test_review_cycle import as_text, mdsgap, read_register

ROOT = Path(__file__).resolve().parent.parent
VENDOR = "株式会社あけぼの医療システム"
PRODUCT = "AKEBONO-RIS 放射線情報システム"
PRODUCT_REPRINTED = "ＡＫＥＢＯＮＯ－ＲＩＳ\n放射線情報システム"  # full-width letters and a line break: same product
PRODUCT_RENAMED = "AKEBONO-RIS Cloud 放射線情報システム"  # read differently: another product key
DAYS = ["2026-05-11", "2026-05-18", "2026-05-25", "2026-06-01"]
DISABLED_RULE = "unsupported.time_sync"
EDITS = {"対応状況": "協議中", "担当": "医療情報課 北川", "対応方針": "次回更新時に対応予定を確認する",
         "期限": dt.datetime(2026, 12, 25)}


def _japanese_date(iso: str) -> str:
    y, m, d = (int(p) for p in iso.split("-"))
    return f"{y}年{m}月{d}日"


def mds_submission(file: str, created: str, product: str = PRODUCT, family: str = "mds",
                   answers: dict | None = None) -> Submission:
    form = "jahis-mds-4.1" if family == "mds" else "jahis-sds-4.1"
    items = mds_items(form, answers={"4.3": NO, "4.3.1": NA, "4.3.2": NA, TWO_FACTOR: NO, "5": NO,
                                     **(answers or {})})
    return Submission(
        file=file, convention="test", family=family, form_id=form, form_version="GL5.2", vendor=VENDOR,
        vendor_key="akebono", product=product, created=created, items=items,
        title=MDS52_TITLE if family == "mds" else SDS52_TITLE,
        header_fields={"製造業者" if family == "mds" else "サービス事業者": VENDOR,
                       "作成日": _japanese_date(created), "製品名称": product})


def write(sub: Submission, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return render_xlsx(sub, folder / sub.file, XLSX_STYLES["A_mds"])


def document_id(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def edit_rows(register: Path, edits: dict[str, dict]) -> None:
    wb = load_workbook(register)
    ws = wb[SHEET_REGISTER]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        rid = row[header.index("risk_id")].value
        for column, value in edits.get(rid, {}).items():
            row[header.index(column)].value = value
    wb.save(register)
    wb.close()


def by_rule(register: dict[str, dict], rule_id: str, item: str | None = None) -> str:
    [rid] = [rid for rid, r in register.items() if r["rule_id"] == rule_id and r["product"] != PRODUCT_RENAMED
             and (item is None or (r["item_ids"] or "") == item)]
    return rid


@dataclass
class Runs:
    registers: list[dict[str, dict]]
    v2: Path
    v3: Path
    edited: dict[str, dict]
    ids: dict[str, str]  # name -> risk_id of the first run


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    work = tmp_path_factory.mktemp("register_integrity")
    env = subprocess_env(work / "prefect_home", PYTHONPATH=str(ROOT))
    inbox, out, files = work / "inbox", work / "out", work / "files"
    register = out / f"{REGISTER_NAME}.xlsx"
    registers = []

    def run(day: str, config: Path | None = None) -> None:
        args = ["run", "--inbox", str(inbox), "--out", str(out), "--as-of", day]
        mdsgap(args + (["--config", str(config)] if config else []), env, work)
        registers.append(read_register(register))

    v1 = write(mds_submission("あけぼの_MDS_20250401.xlsx", "2025-04-01"), files)
    inbox.mkdir()
    shutil.copy2(v1, inbox / v1.name)
    run(DAYS[0])
    first = registers[0]
    ids = {"two_factor": by_rule(first, "unsupported.two_factor_auth"),
           "access_log": by_rule(first, "unsupported.access_log"),
           "time_sync": by_rule(first, DISABLED_RULE),
           "sds": by_rule(first, "missing_document.sds_required")}
    edited = {rid: {**EDITS, "メモ": f"確認中（{name}）"} for name, rid in ids.items()}
    edit_rows(register, edited)

    # 2: the same documents, one rule disabled in the config
    config = work / "settings" / "rules-off.yaml"  # not ./mdsgap.yaml, which every run would read
    config.parent.mkdir()
    config.write_text(f"rules:\n  disabled: [{DISABLED_RULE}]\n", encoding="utf-8")
    run(DAYS[1], config)

    # 3: the re-submission of the same product (its name printed differently)
    v2_sub = mds_submission("あけぼの_MDS_20251001.xlsx", "2025-10-01", PRODUCT_REPRINTED, answers={TWO_FACTOR: YES})
    set_answer(v2_sub.items, "4.3", "", status="ambiguous", marked=(YES, NO))
    v2 = write(v2_sub, files)
    shutil.copy2(v2, inbox / v2.name)
    run(DAYS[2])

    # 4: a later file whose product name is read differently, every control fixed
    v3_sub = mds_submission("あけぼの_MDS_20260301.xlsx", "2026-03-01", PRODUCT_RENAMED,
                            answers={TWO_FACTOR: YES, "4.3": YES, "5": YES})
    v3 = write(v3_sub, files)
    shutil.copy2(v3, inbox / v3.name)
    run(DAYS[3])
    return Runs(registers, v2, v3, edited, ids)


def test_first_run_has_the_risks_open(runs):
    first = runs.registers[0]
    for rid in runs.ids.values():
        assert first[rid]["status"] == "未対応" and not first[rid][RESOLVED_ON] and not first[rid][UNSEEN_REASON]


def test_disabled_rule_leaves_its_risk_open_with_the_reason(runs):
    second = runs.registers[1]
    row = second[runs.ids["time_sync"]]
    assert row["status"] == "協議中" and not row[RESOLVED_ON] and not row[RESOLVED_BY]
    assert DISABLED_RULE in row[UNSEEN_REASON] and "無効" in row[UNSEEN_REASON]
    assert row["last_seen"] == DAYS[0]  # not seen in run 2
    # every other risk still fires, with no reason written
    for name in ("two_factor", "access_log", "sds"):
        assert not second[runs.ids[name]][UNSEEN_REASON] and second[runs.ids[name]]["last_seen"] == DAYS[1]
    assert not any(r["status"] == "解消" for r in second.values())


def test_resubmission_fix_resolves_exactly_that_risk_with_the_newer_document_as_evidence(runs):
    third = runs.registers[2]
    fixed = third[runs.ids["two_factor"]]
    assert fixed["status"] == "解消" and fixed[RESOLVED_ON] == DAYS[2]
    assert runs.v2.name in fixed[RESOLVED_BY] and document_id(runs.v2) in fixed[RESOLVED_BY]
    assert not fixed[UNSEEN_REASON]
    resolved = [rid for rid, r in third.items() if r["status"] == "解消"]
    assert resolved == [runs.ids["two_factor"]]


def test_worse_reading_in_the_resubmission_keeps_the_risk_open_with_the_reason(runs):
    row = runs.registers[2][runs.ids["access_log"]]
    assert row["status"] == "協議中" and not row[RESOLVED_ON]
    assert "項目4.3" in row[UNSEEN_REASON] and runs.v2.name in row[UNSEEN_REASON] and "要確認" in row[UNSEEN_REASON]


def test_risk_ids_survive_a_product_name_with_line_break_and_full_width_letters(runs):
    third = runs.registers[2]
    # the re-enabled rule fires on the re-submission under the same risk id, and so does the missing SDS
    for name in ("time_sync", "sds"):
        row = third[runs.ids[name]]
        assert row["last_seen"] == DAYS[2] and not row[UNSEEN_REASON] and row["status"] == "協議中", name
        assert document_id(runs.v2) in row["document_ids"], name


def test_product_read_differently_does_not_resolve_the_earlier_risks(runs):
    fourth = runs.registers[3]
    for name in ("access_log", "time_sync", "sds"):
        row = fourth[runs.ids[name]]
        assert row["status"] == "協議中" and not row[RESOLVED_ON] and not row[RESOLVED_BY], name
    assert "項目4.3" in fourth[runs.ids["access_log"]][UNSEEN_REASON]
    # the differently named file is a product of its own: its risks have other ids
    renamed = [rid for rid, r in fourth.items() if r["product"] == PRODUCT_RENAMED]
    assert renamed and not set(renamed) & set(runs.registers[2])
    # what was resolved stays resolved, with its date and evidence
    fixed = fourth[runs.ids["two_factor"]]
    assert fixed["status"] == "解消" and fixed[RESOLVED_ON] == DAYS[2] and runs.v2.name in fixed[RESOLVED_BY]


def test_reviewer_edits_are_kept_through_every_run(runs):
    for register in runs.registers[1:]:
        for rid, edits in runs.edited.items():
            row = register[rid]
            assert row["担当"] == EDITS["担当"] and row["対応方針"] == EDITS["対応方針"], rid
            assert as_text(row["期限"]) == "2026-12-25" and row["メモ"] == edits["メモ"], rid
            assert row["対応状況"] == "協議中", rid


# --- the same rules, in process ---------------------------------------------------------------------------------

def test_mds_without_a_readable_product_name_is_no_wildcard_for_the_sds(tmp_path):
    # An SDS of this one product (not a remote-maintenance service, which would cover every product of the vendor).
    sds = extract(write(mds_submission("あけぼの_SDS.xlsx", "2025-04-01", f"{PRODUCT} クラウド連携", family="sds",
                                       answers={"12": APPL, "12.4": APPL}), tmp_path))
    named = extract(write(mds_submission("あけぼの_MDS_named.xlsx", "2025-04-01"), tmp_path))
    blank_sub = mds_submission("あけぼの_MDS_blank.xlsx", "2025-04-01", product="")
    blank = extract(write(blank_sub, tmp_path))
    assert named.product and not blank.product
    rule = "missing_document.sds_required"
    assert not [f for f in evaluate([named, sds], dt.date(2026, 5, 11)) if f.rule_id == rule]
    [finding] = [f for f in evaluate([blank, sds], dt.date(2026, 5, 11)) if f.rule_id == rule]
    assert finding.needs_review and "製品名が読み取れない" in finding.finding
    # a partial name (too short to be part of another) pairs with nothing either
    short = copy.deepcopy(named)
    short.product = "HO"
    [finding] = [f for f in evaluate([short, sds], dt.date(2026, 5, 11)) if f.rule_id == rule]
    assert finding.needs_review


@pytest.mark.parametrize("product", [PRODUCT, "AKEBONO-RIS\n放射線情報システム", "ＡＫＥＢＯＮＯ－ＲＩＳ　放射線情報システム",
                                     "AKEBONO-RIS 放射線情報\nシステム", "AKEBONO-RIS放射線 情報システム", "akebono-ris 放射線情報システム"])
def test_risk_id_ignores_line_breaks_spaces_and_full_width(product):
    def risk(vendor, name):
        return Finding(rule_id="unsupported.access_log", category="unsupported", severity="高", title="t",
                       finding="f", vendor=vendor, product=name, item_ids=["4.3", "2"]).risk_id
    base = risk(VENDOR, PRODUCT)
    assert risk(VENDOR, product) == base
    assert risk("あけぼの医療システム株式会社", product) == base == risk("㈱あけぼの医療\nシステム", product)
    assert risk(VENDOR, "AKEBONO-PACS 画像管理システム") != base


def test_unseen_risk_without_a_newer_document_is_not_resolved_in_process(tmp_path):
    """update_register itself: an unseen risk of a still-current document stays open (the rule ran on it)."""
    doc = make_document(vendor=VENDOR, product=PRODUCT)
    f = Finding(rule_id="unsupported.access_log", category="unsupported", severity="高", title="t", finding="f",
                vendor=VENDOR, product=PRODUCT, item_ids=["4.1"], document_ids=[doc.document_id])
    with Store.open(tmp_path) as store:
        store.save_document(doc)
        update_register(store, [f], tmp_path, dt.date(2026, 5, 11), coverage([doc]))
        result = update_register(store, [], tmp_path, dt.date(2026, 5, 18), coverage([doc]))
    [row] = result.rows
    assert row["status"] == "未対応" and not row[RESOLVED_ON] and "新しい版の提出がありません" in row[UNSEEN_REASON]
    assert any("解消としていません" in w for w in result.warnings)


def test_rows_survive_a_lost_store_through_the_workbook(tmp_path):
    """mdsgap.sqlite deleted, risk_register.xlsx kept: the workbook's rows stay, open, with the reason."""
    f = Finding(rule_id="unsupported.access_log", category="unsupported", severity="高", title="アクセスログ",
                finding="f", vendor=VENDOR, product=PRODUCT, item_ids=["4.3"], document_ids=["0123456789abcdef"])
    with Store.open(tmp_path) as store:
        update_register(store, [f], tmp_path, dt.date(2026, 5, 11), coverage([]))
    edit_rows(tmp_path / f"{REGISTER_NAME}.xlsx", {f.risk_id: {"担当": "医療情報課 北川"}})
    for path in tmp_path.glob(STORE_NAME + "*"):
        path.unlink()
    with Store.open(tmp_path) as store:
        result = update_register(store, [], tmp_path, dt.date(2026, 5, 18), coverage([]))
    [row] = result.rows
    assert row["risk_id"] == f.risk_id and row["担当"] == "医療情報課 北川" and row["title"] == "アクセスログ"
    assert row["status"] == "未対応" and not row[RESOLVED_ON] and "データベースにない" in row[UNSEEN_REASON]
    assert row["first_seen"] == "2026-05-11" and row["needs_review"] is False


@pytest.mark.parametrize("keep_item", [True, False])
def test_resubmission_without_the_item_does_not_resolve_it(tmp_path, keep_item):
    """The store's supersession decides "newer submission of the same product"; the row's item must be read there."""
    old = make_document(vendor=VENDOR, product=PRODUCT, created=dt.date(2025, 4, 1), sha="1" * 64, source_file="v1.xlsx")
    new = make_document(vendor=VENDOR, product=PRODUCT_REPRINTED, created=dt.date(2025, 10, 1), sha="2" * 64,
                        source_file="v2.xlsx")
    new.items = [i for i in new.items if i.item_id == "4.1"] if keep_item else [i for i in new.items if i.item_id != "4.1"]
    f = Finding(rule_id="unsupported.access_log", category="unsupported", severity="高", title="t", finding="f",
                vendor=VENDOR, product=PRODUCT, item_ids=["4.1"], document_ids=[old.document_id])
    with Store.open(tmp_path) as store:
        store.save_document(old)
        update_register(store, [f], tmp_path, dt.date(2026, 5, 11), coverage([old]))
        store.save_document(new)
        assert [d.document_id for d in store.current_documents()] == [new.document_id]
        [row] = update_register(store, [], tmp_path, dt.date(2026, 5, 18), coverage([new])).rows
    if keep_item:
        assert row["status"] == "解消" and "v2.xlsx" in row[RESOLVED_BY] and new.document_id in row[RESOLVED_BY]
    else:
        assert row["status"] == "未対応" and not row[RESOLVED_ON] and "項目4.1が見つからない" in row[UNSEEN_REASON]


def test_superseded_document_the_rule_did_not_evaluate_keeps_the_risk_open(tmp_path):
    from dataclasses import replace

    from rules.catalog import Applicability, load_rules

    old = make_document(vendor=VENDOR, product=PRODUCT, created=dt.date(2025, 4, 1), sha="1" * 64, source_file="v1.xlsx")
    new = make_document(vendor=VENDOR, product=PRODUCT, created=dt.date(2025, 10, 1), sha="2" * 64, source_file="v2.xlsx")
    rule_id = "unsupported.access_log"
    rules = [replace(r, applies_to=Applicability(families=("sds",))) if r.id == rule_id else r for r in load_rules()]
    f = Finding(rule_id=rule_id, category="unsupported", severity="高", title="t", finding="f",
                vendor=VENDOR, product=PRODUCT, item_ids=["4.1"], document_ids=[old.document_id])
    with Store.open(tmp_path) as store:
        store.save_document(old)
        update_register(store, [f], tmp_path, dt.date(2026, 5, 11), coverage([old]))
        store.save_document(new)
        [row] = update_register(store, [], tmp_path, dt.date(2026, 5, 18), coverage([new], rules=rules)).rows
    assert row["status"] == "未対応" and not row[RESOLVED_ON]
    assert "v2.xlsx" in row[UNSEEN_REASON] and "評価していません" in row[UNSEEN_REASON]
