"""Negotiation memos (DOCX), read back after LibreOffice turns them into PDF as legal would print them."""
from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import docx
import pandas as pd
import pytest

from pipeline.memo import build_memos, proposed_wording, standard_clauses
from pipeline.report_data import findings_from_register, group_by_vendor_product
from pipeline.report_names import inside
from pipeline.templates.make_memo_template import STYLE_CLAUSE, STYLE_QUOTE, make_template
from tests.test_reports import mds_document, pdf_text, register_row, sample_documents, sample_register

SOFFICE = shutil.which("soffice")


def squash(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def docx_to_pdf_text(path: Path, tmp: Path) -> str:
    out = tmp / "pdf"
    subprocess.run([SOFFICE, f"-env:UserInstallation={(tmp / 'lo_profile').as_uri()}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(out), str(path)], check=True, capture_output=True, timeout=180)
    return pdf_text(out / (path.stem + ".pdf"))


def docx_text(path: Path) -> str:
    d = docx.Document(str(path))
    cells = [c.text for t in d.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in d.paragraphs] + cells)


@pytest.fixture(scope="module")
def memos(tmp_path_factory):
    out = tmp_path_factory.mktemp("memo")
    docs, _ = sample_documents()
    return out, build_memos(out, docs, sample_register(), generated=dt.date(2024, 10, 1))


def test_one_memo_per_vendor_across_name_spellings(memos):
    out, paths = memos
    assert sorted(p.relative_to(out).as_posix() for p in paths) == [
        "negotiation/XYZ画像システムズ株式会社.docx", "negotiation/株式会社ABCメディカル.docx"]


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed")
def test_memo_printed_by_libreoffice_holds_points_and_standard_clauses(memos, tmp_path):
    out, paths = memos
    text = squash(docx_to_pdf_text(next(p for p in paths if "ABC" in p.name), tmp_path))
    assert "契約協議事項メモ(案)" in text and "相手方:株式会社ABCメディカル" in text
    # responsibility shift: the vendor's remark quoted, the register's clause proposed
    assert squash("パターンファイルの定期更新作業は、お客様と作業分担の取り決めを行わせていただきます。") in text
    assert squash("不正ソフトウェア対策のパターンファイル更新は受託者が月1回以上実施し、実施記録を委託者に報告する。") in text
    # option dependent: who pays; unsupported: compensating control and a date
    assert "本契約の提供範囲に含める" in text and "追加費用を請求しない" in text
    assert "2025-03-31までに対応計画" in text and "代替策を書面で提示する" in text
    # standard clauses, always proposed
    for phrase in ["CVSSv3基本値が7.0以上の脆弱性を認知した場合は、速やかに委託者に報告し",
                   "CVSSv3基本値が9.0以上の脆弱性については、直ちに委託者に緊急の通知を行うとともに、対応策を提示し",
                   "接続元を受託者の保守拠点の特定の回線及び機器に限定", "すべての接続について、接続日時、作業者",
                   "調査に必要なログ・資料を提供する", "復旧手順", "サポート終了の12か月前までに委託者に通知",
                   "本システムの稼働前に、セキュリティ評価"]:
        assert squash(phrase) in text, phrase
    # the remote-maintenance clause quotes what the MDS says about it
    assert squash("発信元電話番号+事前共有キー+ID/PWにて接続認証") in text
    # the lecture's view on 責任分界
    assert "書面等により可視化" in text
    # closed findings are listed separately, not as negotiation points
    assert "解消済み・リスク受容済みの指摘(参考)" in text
    tail = text.split("解消済み・リスク受容済みの指摘(参考)")[-1]
    assert "無線LANの備考なし" in tail and "リスク受容" in tail
    assert "無線LANの備考なし" not in text.split("解消済み・リスク受容済みの指摘(参考)")[0]
    assert "XYZ" not in text


def test_memo_uses_template_styles_for_clauses_and_quotes(memos):
    out, paths = memos
    d = docx.Document(str(next(p for p in paths if "XYZ" in p.name)))
    clauses = [p.text for p in d.paragraphs if p.style.name == STYLE_CLAUSE]
    quotes = [p.text for p in d.paragraphs if p.style.name == STYLE_QUOTE]
    assert len(clauses) == 2 + len(standard_clauses())  # two findings + the standard clauses
    assert any("アクセスログへのアクセス制限機能があるか？" in c for c in clauses)
    assert any("アクセスログは、管理者が、サーバ上で確認できます。" in q for q in quotes)
    assert "［本文］" not in docx_text(next(p for p in paths if "XYZ" in p.name))
    assert "［病院名］" in d.sections[0].header.paragraphs[0].text


def test_hospital_template_is_respected(tmp_path):
    tpl = docx.Document()
    tpl.sections[0].header.paragraphs[0].text = "聖マリア記念病院　医療情報部"
    tpl.add_paragraph("宛先：株式会社ABCメディカル　御中")
    tpl.add_paragraph("［本文］")
    tpl.add_paragraph("以上")
    tpl_path = tmp_path / "hospital.docx"
    tpl.save(str(tpl_path))
    docs, _ = sample_documents()
    paths = build_memos(tmp_path / "out", docs[:2], sample_register().iloc[:3], template=tpl_path)
    assert len(paths) == 1
    memo = docx.Document(str(paths[0]))
    texts = [p.text for p in memo.paragraphs if p.text]
    assert texts[0] == "宛先：株式会社ABCメディカル　御中" and texts[1] == "契約協議事項メモ（案）" and texts[-1] == "以上"
    assert "［本文］" not in texts
    assert memo.sections[0].header.paragraphs[0].text == "聖マリア記念病院　医療情報部"
    # the template lacks 提案条項: the wording still appears, in Normal
    assert any("CVSS" in t and "9.0以上" in t for t in texts)


def test_missing_template_is_reported_in_japanese(tmp_path):
    with pytest.raises(FileNotFoundError, match="テンプレートが見つかりません"):
        build_memos(tmp_path, [], pd.DataFrame(), template=tmp_path / "none.docx")


def test_hostile_vendor_name_stays_inside_and_is_kept_literally(tmp_path):
    vendor = "../../etc/<script>x</script>"
    doc = mds_document(vendor, "製品", "inbox/x.xlsx", dt.date(2024, 1, 10), {}, {"7"})
    reg = pd.DataFrame([register_row(risk_id="R-Z", vendor=vendor, product="製品", category="unsupported",
                                     item_ids="7", title="無線LANのセキュリティ対策なし")])
    out = tmp_path / "out"
    paths = build_memos(out, [doc], reg)
    assert len(paths) == 1 and paths[0].parent == (out / "negotiation").resolve()
    inside(out, paths[0])
    assert ".." not in paths[0].name and "/" not in paths[0].name
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out"]
    assert f"相手方：{vendor}" in docx_text(paths[0])


def test_proposed_wording_per_category():
    docs, _ = sample_documents()
    rows = {f.risk_id: f for f in findings_from_register(sample_register())}
    shift = rows["R-0000000001"]
    shift.contract_clause = ""
    wording = proposed_wording(shift, docs)
    assert "別紙「責任分界表」" in wording and "パターンファイルの定期更新作業は" in wording
    unsupported = rows["R-0000000003"]
    unsupported.due = ""
    assert "＿＿＿＿年＿＿月＿＿日までに対応計画" in proposed_wording(unsupported, docs)
    missing = rows["R-0000000006"]
    assert "最新の様式による開示書" in proposed_wording(missing, docs)


def test_template_generator_writes_the_styles(tmp_path):
    path = make_template(tmp_path / "t.docx")
    names = {s.name for s in docx.Document(str(path)).styles}
    assert {STYLE_CLAUSE, STYLE_QUOTE, "注記", "Heading 1", "Title"} <= names
    shipped = {s.name for s in docx.Document(str(Path(__file__).parent.parent / "pipeline/templates/memo_template.docx")).styles}
    assert {STYLE_CLAUSE, STYLE_QUOTE, "注記"} <= shipped


def test_a_helper_process_writes_the_memos_the_run_would_write(tmp_path, monkeypatch):
    """pipeline.memo_helper: the memos come from a worker process (this process's build_memos is broken here),
    the same files with the same text as written in this process."""
    from pipeline import memo, memo_helper

    docs, _ = sample_documents()
    register = sample_register()
    here = build_memos(tmp_path / "here", docs, register)
    monkeypatch.setattr(memo, "build_memos", lambda *args, **kwargs: pytest.fail("written in the run's process"))
    helper = memo_helper.MemoHelper()
    try:
        helper.submit(tmp_path / "helper", docs, register)
        there = helper.collect()
    finally:
        helper.close()
    assert [p.name for p in there] == [p.name for p in here] and len(here) >= 2
    assert [docx_text(p) for p in there] == [docx_text(p) for p in here]


def test_two_writers_share_the_memos_each_written_once_in_vendor_order(tmp_path):
    """pipeline.memo_helper.Claims: a writer from the last vendor back stops at the first vendor the other writer
    has taken, and the memos keep the names and text they have when one writer writes them all."""
    from pipeline.memo_helper import Claims

    docs, _ = sample_documents()
    register = sample_register()
    here = build_memos(tmp_path / "here", docs, register)
    assert len(here) >= 2
    claims = Claims(tmp_path / "claims")
    claims.folder.mkdir()
    keys = sorted({g.vendor_key for g in group_by_vendor_product(docs, findings_from_register(register))})
    assert claims(keys[0]) and not claims(keys[0])  # the other writer has taken the first vendor
    back = build_memos(tmp_path / "shared", docs, register, take=claims, from_end=True)
    assert [p.name for p in back[::-1]] == [p.name for p in here[1:]]
    assert [docx_text(p) for p in back[::-1]] == [docx_text(p) for p in here[1:]]
    assert not build_memos(tmp_path / "late", docs, register, take=claims)  # everything is taken now


def test_the_run_and_its_helper_finish_the_memos_together(tmp_path):
    from pipeline import memo_helper

    docs, _ = sample_documents()
    register = sample_register()
    here = build_memos(tmp_path / "here", docs, register)
    helper = memo_helper.MemoHelper()
    try:
        helper.submit(tmp_path / "both", docs, register)
        both = helper.finish()
        claims = helper._claims.folder
    finally:
        helper.close()
    assert [p.name for p in both] == [p.name for p in here]
    assert [docx_text(p) for p in both] == [docx_text(p) for p in here]
    assert not claims.exists()  # the claim files are gone with the run's temporary folder


def test_a_helper_that_cannot_write_the_memos_leaves_them_to_the_run(tmp_path):
    from pipeline import memo_helper

    docs, _ = sample_documents()
    blocked = tmp_path / "out"
    blocked.write_text("a file where the output folder should be")
    helper = memo_helper.MemoHelper()
    try:
        helper.submit(blocked, docs, sample_register())
        assert helper.collect() is None
    finally:
        helper.close()
    assert not helper.pool.pids()
