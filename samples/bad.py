"""Files the pipeline must refuse or skip, each with truth `{"expect_failure": kind, ...}`.

kinds: corrupt (truncated Office zip, random bytes named .pdf), empty (0 bytes), not_a_form (a 見積書, a Word
送付状), ignored (an Office lock file 「~$….xlsx」). The hospital's asset list that used to be here is a device
ledger (issue 15): samples.ledger.write_asset_list.
"""
from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Callable, Iterator

from docx import Document
from docx.shared import Pt
from openpyxl import Workbook
from openpyxl.styles import Font

from samples.ziputil import normalize


def bad_truth(path: Path, kind: str, note: str) -> dict:
    return {"file": path.name, "convention": f"bad-{kind}", "family": "", "form_id": "", "vendor": "",
            "items": [], "planted": [], "expect_failure": kind, "note": note}


def _a_real_xlsx(tmp: Path) -> bytes:
    from samples.office_xlsx import render_xlsx
    from samples.styles import XLSX_STYLES
    from samples.vendors import vendor_a

    sub, _, key = vendor_a()[0]
    p = tmp / "full.xlsx"
    render_xlsx(sub, p, XLSX_STYLES[key])
    return p.read_bytes()


def _a_real_docx(tmp: Path) -> bytes:
    from samples.docx_vendors import DOCX_STYLES, vendor_d
    from samples.office_docx import render_docx

    sub, key = vendor_d()[0]
    p = tmp / "full.docx"
    render_docx(sub, p, DOCX_STYLES[key])
    return p.read_bytes()


def write_estimate(path: Path) -> None:
    """御見積書: a spreadsheet from a vendor that is not a disclosure form."""
    wb = Workbook()
    ws = wb.active
    ws.title = "御見積書"
    ws["B2"] = "御 見 積 書"
    ws["B2"].font = Font(name="ＭＳ Ｐゴシック", size=16, bold=True)
    ws["B4"], ws["F4"] = "○○総合病院 御中", "見積番号：Q-2025-0412"
    ws["F5"] = "見積日：2025年4月12日"
    ws["F6"] = "株式会社メディネクスト 営業部"
    rows = [("No.", "品名", "数量", "単価", "金額"),
            (1, "NEXT-Chart 電子カルテシステム ライセンス", 1, 4800000, None),
            (2, "サーバ機器一式（冗長構成）", 1, 2350000, None),
            (3, "導入作業費", 1, 900000, None),
            (4, "年間保守費用（リモート保守を含む）", 1, 720000, None)]
    for r, vals in enumerate(rows, 8):
        for c, v in enumerate(vals, 2):
            ws.cell(row=r, column=c, value=v)
        if r > 8:
            ws.cell(row=r, column=6, value=f"=D{r}*E{r}")
    ws["E14"], ws["F14"] = "合計（税抜）", "=SUM(F9:F12)"
    ws["B16"] = "備考：有効期限はお見積日より3か月とします。"
    ws.column_dimensions["C"].width = 44
    wb.save(path)
    normalize(path)


def write_cover_letter(path: Path) -> None:
    """送付状: a Word letter that accompanies the forms."""
    doc = Document()
    doc.styles["Normal"].font.size = Pt(10.5)
    for text in ("2025年9月5日", "○○総合病院 医療情報部 御中", "", "北斗システムズ株式会社", "営業本部 第二営業部",
                 "", "書類送付のご案内", "", "拝啓 時下ますますご清祥のこととお慶び申し上げます。",
                 "平素は格別のご高配を賜り、厚く御礼申し上げます。",
                 "ご依頼いただきました下記書類をお送りいたしますので、ご査収のほどよろしくお願い申し上げます。",
                 "敬具", "", "記", "・サービス事業者による医療情報セキュリティ開示書（SDS） 1部",
                 "・サイバーセキュリティ対策チェックリスト（事業者確認用） 1部", "以上"):
        doc.add_paragraph(text)
    doc.core_properties.author = "北斗システムズ株式会社"
    doc.save(path)
    normalize(path)


def lock_file_bytes(user: str = "yamada") -> bytes:
    """An Excel owner file (~$name.xlsx): user name, padding, then the name again in UTF-16."""
    head = bytes([len(user)]) + user.encode("ascii")
    head = head.ljust(54, b" ")
    tail = user.encode("utf-16-le")
    tail += b"\x20\x00" * ((110 - len(tail)) // 2)
    return (head + tail)[:165]


def build_bad(out: Path, wanted: Callable[..., bool] = lambda *a: True) -> Iterator[tuple[Path, dict]]:
    out = Path(out)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        jobs: list[tuple[str, str, str, Callable[[Path], None]]] = []

        def add(name: str, kind: str, note: str, writer: Callable[[Path], None]) -> None:
            jobs.append((name, kind, note, writer))

        add("MDS_途中保存_破損.xlsx", "corrupt", "XLSX の途中で切れたファイル（ZIP 末尾なし）",
            lambda p: p.write_bytes(_a_real_xlsx(tmp)[:4000]))
        add("開示書_送信エラー.docx", "corrupt", "DOCX の途中で切れたファイル",
            lambda p: p.write_bytes(_a_real_docx(tmp)[:5000]))
        add("SDS_提出用.xlsx", "empty", "0 バイトのファイル", lambda p: p.write_bytes(b""))
        add("スキャン_開示書.pdf", "corrupt", "PDF ではない乱数バイト列（拡張子のみ .pdf）",
            lambda p: p.write_bytes(random.Random(20251127).randbytes(6144)))
        add("御見積書_NEXT-Chart.xlsx", "not_a_form", "見積書（開示書ではない）", write_estimate)
        add("送付状_北斗システムズ.docx", "not_a_form", "送付状（Word の手紙、開示書ではない）", write_cover_letter)
        add("~$【MDS】NEXT-Chart電子カルテ_医療情報セキュリティ開示書_20230721.xlsx", "ignored",
            "Excel のロックファイル（所有者ファイル）", lambda p: p.write_bytes(lock_file_bytes()))
        for name, kind, note, writer in jobs:
            if not wanted(name, f"bad-{kind}", "bad"):
                continue
            path = out / name
            writer(path)
            yield path, bad_truth(path, kind, note)
