"""Two full forms to print and scan: an SDS with a shaded header row, and a checklist with its vendor line.

`draw_form_sources(out_dir)` draws, with reportlab + IPAex, with a `<file>.truth.json` beside each PDF:

- `scan_src_sds.pdf`: a disclosure form (サービス事業者 SDS, GL5.2) as vendors print it: a header-field table
  (サービス事業者名 / 作成日 / サービス名称 / バージョン), a grey-shaded header row 「項番 | 確認項目 | 回答 | 備考」
  with 回答 merged over the three option columns, shaded section rows, group rows (4.1, 12.3.1.1) with
  their bullets, 該当/非該当 rows printed in the same columns as はい/いいえ, rows so low that a pen
  ellipse touches the rules, remarks, and a footnote sentence plus a page footer under the table;
- `scan_src_checklist_vendor.pdf`: a 事業者確認用 checklist whose 事業者名 is a label and an underlined
  name on one line below the table, followed by an instruction sentence quoting a manual title
  (「…」をご覧ください。) that must never be taken for the vendor.

`samples.scan_builder.build_scan_samples` turns them into scans. Every name and remark is invented.
"""
from __future__ import annotations

import random
from pathlib import Path

from samples.scan_builder import FONT_NAME, _hand_ellipse, _wrap, draw_ruled_table, draw_with_truth

SDS_VENDOR = "有限会社しらさぎクラウド工房"
SDS_PRODUCT = "しらさぎ検査連携"
CHECKLIST_VENDOR = "合同会社あおば医療ネット"

YN = ("はい", "いいえ", "対象外")
GATE = ("該当", "非該当", "")

# (kind, number, printed question, answer, remark); kinds: section, item, gate, group, bullet, gbullet.
SDS_ROWS = (
    ("section", "", "技術的安全対策(6.5)", "", ""),
    ("item", "3", "離席時の不正入力防止の機能があるか？(6.5.C4)", "はい", ""),
    ("item", "4", "アクセス管理の機能があるか？(6.5.C1)", "はい", ""),
    ("group", "4.1", "利用者の認証方式は？(6.5.C1、6.5.C13)", "", ""),
    ("bullet", "", "・記憶（ID・パスワード等）", "はい", ""),
    ("bullet", "", "・生体認証（指紋等）", "いいえ", ""),
    ("bullet", "", "・物理媒体（ICカード等）", "いいえ", ""),
    ("bullet", "", "・上記のうちの二要素を組み合わせた認証（具体的な組み合わせを備考に記入してください）", "はい",
     "ICカードと暗証番号の併用に対応"),
    ("item", "4.1.1", "パスワードを利用者認証手段として利用している場合、パスワード管理は可能か？(6.5.C14)", "はい", ""),
    ("item", "4.3", "アクセス記録（アクセスログ）機能があるか？(6.5.C7)", "はい", ""),
    ("item", "4.3.1", "アクセスログを利用者が確認する機能があるか？(6.5.C7)", "いいえ", "閲覧は保守窓口経由で提供"),
    ("item", "7", "無線LANを利用する場合のセキュリティ対策機能はあるか？(6.5.C15)", "対象外", ""),
    ("section", "", "外部のネットワーク等を通じた個人情報を含む医療情報の交換に当たっての安全管理(6.11)", "", ""),
    ("gate", "12", "「外部と個人情報を含む医療情報を通信する機能」や「リモートメンテナンス機能」を有するか？(6.11)",
     "該当", ""),
    ("item", "12.1", "なりすましの対策（認証）機能を有するか？(6.11.C3)", "はい", ""),
    ("group", "12.3.1.1", "対応している通信方式はいずれか？(6.11.C4、6.11.C11)", "", ""),
    ("gbullet", "", "・専用線", "非該当", ""),
    ("gbullet", "", "・IP-VPN", "該当", "拠点間は閉域網で接続"),
    ("gbullet", "", "・TLS1.2以上（高セキュリティ型、クライアント認証）", "該当", ""),
    ("gate", "12.4", "リモートメンテナンス機能を有するか？(6.11.C7)", "非該当", ""),
)

CHECKLIST_ROWS = (
    ("1(1)", "事業者内に、医療情報システム等の提供に係る管理責任者を設置している。", "はい", "1/20"),
    ("2(2)", "リモートメンテナンス（保守）している機器の有無を確認した。", "はい", "1/20"),
    ("2(3)", "医療機関に製造業者/サービス事業者による医療情報セキュリティ開示書（MDS/SDS）を提出した。", "いいえ", "1/20"),
    ("2(5)", "退職者や使用していないアカウント等、不要なアカウントを削除している。", "はい", "1/21"),
    ("2(10)", "アクセスログを管理している。", "はい", "1/21"),
    ("2(13)", "接続元制限を実施している。", "いいえ", "1/22"),
)


def _item_id(number: str, text: str, parent: str) -> str:
    if number:
        return number
    label = text.lstrip("・").split("（")[0]
    return f"{parent}/{label}"


def _draw_sds(path: Path, rng: random.Random) -> dict:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    c.setFont(FONT_NAME, 13)
    c.drawCentredString(width / 2, height - 50, "「サービス事業者による医療情報セキュリティ開示書」チェックリスト")
    c.setFont(FONT_NAME, 9)
    c.drawCentredString(width / 2, height - 66, "（医療情報システムの安全管理に関するガイドライン第5.2版対応）")

    # Header fields: a 2 x 4 table.
    hcols, htop, hrow = [40, 130, 330, 400, 555], height - 80, 20
    c.setLineWidth(0.9)
    for i in range(3):
        c.line(hcols[0], htop - i * hrow, hcols[-1], htop - i * hrow)
    for x in hcols:
        c.line(x, htop, x, htop - 2 * hrow)
    fields = (("サービス事業者名", SDS_VENDOR, "作成日", "2026年2月3日"),
              ("サービス名称", SDS_PRODUCT, "バージョン", "2.1"))
    c.setFont(FONT_NAME, 9.5)
    for i, row in enumerate(fields):
        for j, text in enumerate(row):
            c.drawString(hcols[j] + 4, htop - i * hrow - 13.5, text)

    cols = [40, 88, 334, 380, 426, 472, 555]  # 項番 | 確認項目 | はい | いいえ | 対象外 | 備考
    top = htop - 2 * hrow - 22
    heights = [22] + [max(22, 11 * max(len(_wrap(r[2], 28)), len(_wrap(r[4], 9))) + 9) if r[0] != "section" else 20
                      for r in SDS_ROWS]
    ys = [top]
    for h in heights:
        ys.append(ys[-1] - h)
    # Shading first, rules over it.
    c.setFillGray(0.78)
    c.rect(cols[0], ys[1], cols[-1] - cols[0], heights[0], stroke=0, fill=1)
    for i, row in enumerate(SDS_ROWS, start=1):
        if row[0] == "section":
            c.setFillGray(0.9)
            c.rect(cols[0], ys[i + 1], cols[-1] - cols[0], heights[i], stroke=0, fill=1)
        elif row[0] == "group":
            c.setFillGray(0.85)
            c.rect(cols[2], ys[i + 1], cols[5] - cols[2], heights[i], stroke=0, fill=1)
    c.setFillGray(0)
    c.setStrokeGray(0)
    c.setLineWidth(0.9)
    for y in ys:
        c.line(cols[0], y, cols[-1], y)
    for i in range(len(heights)):
        y0, y1 = ys[i], ys[i + 1]
        kind = SDS_ROWS[i - 1][0] if i else "header"
        if kind == "section":
            inner = []
        elif kind in ("header", "group"):
            inner = [cols[1], cols[2], cols[5]]
        else:
            inner = cols[1:-1]
        for x in [cols[0], *inner, cols[-1]]:
            c.line(x, y0, x, y1)
    c.setFont(FONT_NAME, 10)
    mid = (ys[0] + ys[1]) / 2 - 3.5
    c.drawCentredString((cols[0] + cols[1]) / 2, mid, "項番")
    c.drawCentredString((cols[1] + cols[2]) / 2, mid, "確認項目")
    c.drawCentredString((cols[2] + cols[5]) / 2, mid, "回答")
    c.drawCentredString((cols[5] + cols[6]) / 2, mid, "備考")

    items, parent = [], ""
    for i, (kind, number, text, answer, remark) in enumerate(SDS_ROWS, start=1):
        y_top, y_bottom = ys[i], ys[i + 1]
        y_mid = (y_top + y_bottom) / 2
        if kind == "section":
            c.setFont(FONT_NAME, 9)
            c.drawString(cols[0] + 4, y_mid - 3, text)
            continue
        c.setFont(FONT_NAME, 10)
        if number:
            c.drawCentredString((cols[0] + cols[1]) / 2, y_mid - 3.5, number)
        c.setFont(FONT_NAME, 8.5)
        lines = _wrap(text, 28)
        first = y_mid + 5.5 * (len(lines) - 1) - 3
        for k, line in enumerate(lines):
            c.drawString(cols[1] + 4 + (6 if kind in ("bullet", "gbullet") else 0), first - 11 * k, line)
        notes = _wrap(remark, 9) if remark else []
        for k, line in enumerate(notes):
            c.drawString(cols[5] + 4, y_mid + 5.5 * (len(notes) - 1) - 3 - 11 * k, line)
        if kind == "group":
            parent = number
            items.append({"item_id": number, "kind": "group", "question": text, "answer": "",
                          "answer_status": "unanswered", "remark": remark, "evidence": []})
            continue
        options = GATE if kind in ("gate", "gbullet") else YN
        c.setFont(FONT_NAME, 10)
        boxes = {}
        for j, option in enumerate(options):
            if option:
                cx = (cols[2 + j] + cols[3 + j]) / 2
                c.drawCentredString(cx, y_mid - 3.5, option)
                w = c.stringWidth(option, FONT_NAME, 10)
                boxes[option] = (cx - w / 2, cx + w / 2)
        x0, x1 = boxes[answer]
        c.setStrokeColorRGB(0.8, 0.05, 0.05) if i % 3 else c.setStrokeColorRGB(0.1, 0.1, 0.65)
        c.setLineWidth(1.3)
        _hand_ellipse(c, (x0 + x1) / 2 + rng.uniform(-1, 1), y_mid + rng.uniform(-0.5, 0.5),
                      (x1 - x0) / 2 + 5.5, 8.5, rng)
        c.setStrokeGray(0)
        c.setLineWidth(0.9)
        items.append({"item_id": _item_id(number, text, parent), "question": text.lstrip("・"), "answer": answer,
                      "answer_status": "answered", "remark": remark,
                      "evidence": [{"kind": "circle", "word": answer}]})
    c.setFont(FONT_NAME, 8.5)
    c.drawString(cols[0], ys[-1] - 16, "※各項目の記入方法は「開示書記入の手引き」第3章をご参照ください。")
    c.drawCentredString(width / 2, 30, "- 1 -")
    c.drawRightString(cols[-1], 30, SDS_PRODUCT)
    c.showPage()
    c.save()
    return {"family": "sds", "vendor": SDS_VENDOR, "product": SDS_PRODUCT, "created": "2026-02-03",
            "layout": "shaded_header_answer_span", "items": items}


def _draw_checklist(path: Path, rng: random.Random) -> dict:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    c.setFont(FONT_NAME, 13)
    c.drawString(50, height - 56, "医療機関におけるサイバーセキュリティ対策チェックリスト")
    c.setFont(FONT_NAME, 9)
    c.drawString(470, height - 56, "事業者確認用")
    c.drawString(50, height - 76, "○ 令和7年度中")
    cols = [45, 90, 330, 430, 485, 555]  # 番号 | 確認事項 | 回答 | 確認日 | 備考
    header = ["番号", "確認事項", "回答", "確認日", "備考"]
    top, row_h = height - 92, 36
    draw_ruled_table(c, cols, header, top, row_h, 1 + len(CHECKLIST_ROWS))
    bottom = top - (1 + len(CHECKLIST_ROWS)) * row_h
    items = []
    for i, (number, question, answer, date) in enumerate(CHECKLIST_ROWS):
        y_mid = top - (i + 1.5) * row_h
        c.setFont(FONT_NAME, 10)
        c.drawCentredString((cols[0] + cols[1]) / 2, y_mid - 3.5, number)
        c.setFont(FONT_NAME, 8.5)
        lines = _wrap(question, 26)
        for k, line in enumerate(lines):
            c.drawString(cols[1] + 4, y_mid + 5.5 * (len(lines) - 1) - 3 - 11 * k, line)
        c.setFont(FONT_NAME, 10)
        x_start = cols[2] + 16
        c.drawString(x_start, y_mid - 3.5, "はい・いいえ")
        w_hai = c.stringWidth("はい", FONT_NAME, 10)
        w_dot = c.stringWidth("・", FONT_NAME, 10)
        w_iie = c.stringWidth("いいえ", FONT_NAME, 10)
        boxes = {"はい": (x_start, x_start + w_hai),
                 "いいえ": (x_start + w_hai + w_dot, x_start + w_hai + w_dot + w_iie)}
        c.drawCentredString((cols[3] + cols[4]) / 2, y_mid - 3.5, date)
        x0, x1 = boxes[answer]
        c.setStrokeColorRGB(0.1, 0.1, 0.7)
        c.setLineWidth(1.3)
        _hand_ellipse(c, (x0 + x1) / 2 + rng.uniform(-1, 1), y_mid + rng.uniform(-1, 1), (x1 - x0) / 2 + 4.5, 9, rng)
        c.setStrokeGray(0)
        c.setLineWidth(1.0)
        items.append({"item_id": number, "question": question, "answer": answer, "answer_status": "answered",
                      "first_date": date, "evidence": [{"kind": "circle", "word": answer}]})
    # The vendor line: a label, a gap, the name on an underline; then an instruction sentence.
    y = bottom - 40
    c.setFont(FONT_NAME, 11)
    c.drawString(300, y, "事業者名：")
    c.drawString(385, y, CHECKLIST_VENDOR)
    c.setLineWidth(0.6)
    c.line(380, y - 4, cols[-1], y - 4)
    c.setFont(FONT_NAME, 8.5)
    c.drawString(50, y - 34, "● 各項目の確認方法については、「チェックリスト記入の手引き（事業者向け）」をご覧ください。")
    c.drawCentredString(width / 2, 30, "- 1 -")
    c.showPage()
    c.save()
    return {"family": "checklist_vendor", "vendor": CHECKLIST_VENDOR, "layout": "vendor_line_below_table",
            "items": items}


def draw_form_sources(out_dir: Path, seed: int = 5) -> list[Path]:
    """Draw the two forms with their truth files; returns the PDF paths."""
    return draw_with_truth(out_dir, (("scan_src_sds.pdf", _draw_sds),
                                     ("scan_src_checklist_vendor.pdf", _draw_checklist)), seed)
