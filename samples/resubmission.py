"""A re-submitted version of an existing sample: the review cycle's second round (issue #5).

    build_resubmission(src_dir, out_dir) -> [path of the new file]

The vendor メディネクスト sends its MDS again: same vendor, product and family, a newer 作成日, and

- better: 二要素認証 いいえ → はい, with the combination written in 備考 (footnote 4);
- worse: 5 時刻同期 はい → いいえ, with a remark saying so (new footnote 10);
- remark changed: 1 扱う情報のリスト keeps はい but footnote 1 says something new.

The file is drawn by the same renderer and style as the original (`samples.office_xlsx.render_xlsx` with
`XLSX_STYLES["A_mds"]`), from a copy of the original `Submission`; the truth is written beside it with
`resubmission_of` (the original file name) and `changes` (item ids per kind of change).

    python -m samples.resubmission --src DIR --out DIR
"""
from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

from samples.spec import NO, YES, Submission, footnote, set_answer
from samples.vendors import TWO_FACTOR, vendor_a

RESUBMITTED_CREATED = "2026-10-15"
RESUBMITTED_VERSION = "3.3以降"
TWO_FACTOR_REMARK = "ID・パスワードとICカードを組み合わせた二要素認証に対応しました（V3.3以降）。"
TIME_SYNC_ITEM = "5"
TIME_SYNC_REMARK = "時刻同期機能は有しておりません。院内NTPサーバとの同期は医療機関様でご対応ください。"
INFO_LIST_ITEM = "1"
INFO_LIST_REMARK = "扱う情報のリストは契約時に提出いたします。"


def original_medinext_mds() -> tuple[Submission, str]:
    """The original MDS Submission of メディネクスト and its style key, exactly as samples.build writes it."""
    return next((sub, style) for sub, fmt, style in vendor_a() if sub.family == "mds")


def _compact(iso: str) -> str:
    return iso.replace("-", "")


def revise(original: Submission) -> tuple[Submission, dict[str, list[str]]]:
    """A copy of `original` as the vendor re-submits it, and the item ids that changed (better/worse/remark)."""
    sub = copy.deepcopy(original)
    y, m, d = (int(p) for p in RESUBMITTED_CREATED.split("-"))
    sub.created = RESUBMITTED_CREATED
    sub.product_version = RESUBMITTED_VERSION
    sub.file = original.file.replace(_compact(original.created), _compact(RESUBMITTED_CREATED))
    if sub.file == original.file:  # the original name carries no date: add one
        stem, dot, ext = original.file.rpartition(".")
        sub.file = f"{stem}_{_compact(RESUBMITTED_CREATED)}.{ext}"
    sub.header_fields = {**original.header_fields, "作成日": f"{y}年{m}月{d}日", "バージョン": RESUBMITTED_VERSION}

    set_answer(sub.items, TWO_FACTOR, YES)
    footnote(sub, TWO_FACTOR, sub.item(TWO_FACTOR).remark_ref or "4", TWO_FACTOR_REMARK)
    set_answer(sub.items, TIME_SYNC_ITEM, NO)
    next_ref = str(max(int(n) for n in sub.footnotes if n.isdigit()) + 1)
    footnote(sub, TIME_SYNC_ITEM, next_ref, TIME_SYNC_REMARK)
    info = sub.item(INFO_LIST_ITEM)
    if info.remark_ref:
        footnote(sub, INFO_LIST_ITEM, info.remark_ref, INFO_LIST_REMARK)
    else:
        info.remark = INFO_LIST_REMARK

    sub.planted = [p for p in original.planted
                   if not (p["category"] == "unsupported" and TWO_FACTOR in p["item_ids"])]
    sub.plant("unsupported", ["4.3"], "アクセスログ機能 いいえ（再提出でも未対応）")
    sub.plant("unsupported", [TIME_SYNC_ITEM], "再提出で 時刻同期 はい → いいえ")
    sub.plant("stale_document", [], "ガイドライン第5.2版の様式のまま")
    sub.planted = [p for p in sub.planted
                   if not (p["category"] == "stale_document" and "作成日" in p["note"])]
    changes = {"better": [TWO_FACTOR], "worse": [TIME_SYNC_ITEM], "remark_changed": [INFO_LIST_ITEM]}
    return sub, changes


def build_resubmission(src_dir: Path, out_dir: Path) -> list[Path]:
    """Write the re-submitted MDS (and its truth JSON beside it) into `out_dir`; return the new file's path.

    `src_dir` must hold the original file as `samples.build` wrote it (its truth JSON beside it): the new
    version is only meaningful next to the one it replaces, so a missing or different original is an error.
    """
    from samples.office_xlsx import render_xlsx
    from samples.styles import XLSX_STYLES

    original, style_key = original_medinext_mds()
    src = Path(src_dir) / original.file
    truth_path = src.with_name(src.name + ".truth.json")
    if not src.is_file() or not truth_path.is_file():
        raise FileNotFoundError(f"再提出の元になる書類がありません: {src}（先に samples.build を実行してください）")
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    if (truth.get("vendor"), truth.get("product"), truth.get("family")) != (
            original.vendor, original.product, original.family):
        raise ValueError(f"{src.name} の正解データが想定と異なります（事業者・製品・様式）。")

    revised, changes = revise(original)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = render_xlsx(revised, out / revised.file, XLSX_STYLES[style_key])
    new_truth = {**revised.truth(), "resubmission_of": original.file, "changes": changes}
    path.with_name(path.name + ".truth.json").write_text(
        json.dumps(new_truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return [path]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="サンプル書類の再提出版（作成日が新しく、回答の一部を修正）を作成します。")
    parser.add_argument("--src", required=True, type=Path, help="元のサンプルがあるフォルダ（samples.build の出力先）")
    parser.add_argument("--out", required=True, type=Path, help="出力先フォルダ")
    args = parser.parse_args(argv)
    for path in build_resubmission(args.src, args.out):
        print(path.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
