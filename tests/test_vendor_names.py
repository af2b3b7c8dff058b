"""A vendor name broken by a line break or a space (a narrow PDF header cell) is the same vendor as the
unbroken name: one display name, one group (one report, one memo). Real PDFs drawn here."""
from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas as rl_canvas

from extractors import extract
from extractors.text import join_broken_name, organization_key
from rules.grouping import group_documents
from samples.pdf_builder import FONT, register_font

MDS_TITLE = "製造業者による医療情報セキュリティ開示書 チェックリスト（ガイドライン第5.2版対応）"
VENDOR = "株式会社しろつめ医療機器"


def test_broken_names_share_one_key_and_display_name():
    broken = ["株式会社しろつめ医\n療機器", "しろつめ医療機器株\n式会社", "しろつめ医療機器株式 会社", "株式会社　しろつめ医療機器"]
    for name in broken:
        assert organization_key(name) == organization_key(VENDOR), name
        assert "\n" not in join_broken_name(name) and "株式会社" in join_broken_name(name)
    assert join_broken_name("ABC Medical\nCo., Ltd.") == "ABC Medical Co., Ltd."
    assert join_broken_name("株式会社 しろつめ医療機器") == "株式会社 しろつめ医療機器"  # a printed space stays


def _pdf(path: Path, vendor_lines: list[str], product: str) -> None:
    register_font()
    c = rl_canvas.Canvas(str(path), pagesize=A4)
    c.setFont(FONT, 10)
    c.drawString(40, 800, MDS_TITLE)
    # Header table: 製造業者 | name (wrapped over lines inside one narrow cell) / 製品名称 | product
    x0, x1, x2, top = 40, 120, 260, 780
    heights = [14 * len(vendor_lines) + 6, 20]
    y = top
    for h in heights:
        c.rect(x0, y - h, x1 - x0, h)
        c.rect(x1, y - h, x2 - x1, h)
        y -= h
    c.drawString(x0 + 4, top - 14, "製造業者")
    for k, line in enumerate(vendor_lines):
        c.drawString(x1 + 4, top - 14 - 14 * k, line)
    c.drawString(x0 + 4, top - heights[0] - 14, "製品名称")
    c.drawString(x1 + 4, top - heights[0] - 14, product)
    # Items table
    cols = [40, 80, 400, 440, 480, 520, 560]
    rows = [("No.", "確認項目", "はい", "いいえ", "対象外", "備考"),
            ("1", "扱う情報のリストを医療機関等に提示できるか？", "○", "", "", ""),
            ("3", "離席時の不正入力防止の機能があるか？", "", "○", "", "")]
    y = 680
    for row in rows:
        for i, text in enumerate(row):
            c.rect(cols[i], y - 20, cols[i + 1] - cols[i], 20)
            if text:
                c.drawString(cols[i] + 3, y - 14, text)
        y -= 20
    c.save()


def test_pdf_header_with_a_broken_vendor_name_groups_with_the_unbroken_one(tmp_path):
    a, b, c = tmp_path / "a.pdf", tmp_path / "b.pdf", tmp_path / "c.pdf"
    _pdf(a, ["しろつめ医療機器株", "式会社"], "検査装置A")
    _pdf(b, ["しろつめ医療機器", "株式 会社"], "検査装置B")
    _pdf(c, ["しろつめ医療機器株式会社"], "検査装置C")
    docs = [extract(p) for p in (a, b, c)]
    assert [d.vendor for d in docs] == ["しろつめ医療機器株式会社"] * 3
    groups = group_documents(docs)
    assert len(groups) == 1 and groups[0].vendor == "しろつめ医療機器株式会社"
    assert len(groups[0].documents) == 3 and not groups[0].needs_review
