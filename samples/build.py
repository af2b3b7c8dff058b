"""Build the sample vendor files and their truth: `python -m samples.build --out DIR [--only NAME]`.

Deterministic: fixed dates, no randomness (the random-bytes bad file uses a fixed seed), zip entry
times fixed, so a rebuild gives the same bytes (LibreOffice-made legacy files excepted).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from samples.spec import Submission


def write_truth(path: Path, truth: dict) -> Path:
    tpath = path.with_name(path.name + ".truth.json")
    tpath.write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return tpath


def office_samples() -> list[tuple[Submission, str, object]]:
    """(submission, format, style) for every XLSX and DOCX sample."""
    from samples import vendors
    from samples.styles import XLSX_STYLES

    out = []
    for make in vendors.XLSX_VENDORS:
        for sub, fmt, key in make():
            out.append((sub, fmt, XLSX_STYLES[key]))
    try:
        from samples.docx_vendors import docx_samples
    except ImportError:  # DOCX part not present
        return out
    out.extend(docx_samples())
    return out


def build(out: Path, only: str | None = None, legacy: bool = True, pdf: bool = False) -> list[Path]:
    """Write every sample (or those whose file name or convention contains `only`) into `out`.

    `pdf=True` also runs the PDF colleague's `samples.pdf_builder.build_pdf_samples` (born-digital PDFs
    with their own truth), when that module is present.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def wanted(*names: str) -> bool:
        return only is None or any(only in n for n in names)

    for sub, fmt, style in office_samples():
        if not wanted(sub.file, sub.convention, sub.vendor_key):
            continue
        path = out / sub.file
        if fmt == "xlsx":
            from samples.office_xlsx import render_xlsx
            render_xlsx(sub, path, style)
        else:
            from samples.office_docx import render_docx
            render_docx(sub, path, style)
        write_truth(path, sub.truth())
        written.append(path)
    try:
        from samples import bad
    except ImportError:
        bad = None
    if bad is not None:
        for path, truth in bad.build_bad(out, wanted):
            write_truth(path, truth)
            written.append(path)
    from samples.ledger import build_asset_list  # the hospital's own asset list: a device ledger (issue 15)
    for path, truth in build_asset_list(out, wanted):
        write_truth(path, truth)
        written.append(path)
    if legacy and (only is None or only == "legacy"):
        try:
            from samples.legacy import build_legacy
        except ImportError:
            build_legacy = None
        if build_legacy is not None:
            for path, truth in build_legacy(out):
                write_truth(path, truth)
                written.append(path)
    if only == "gl7":  # guideline 第7.0版 / 令和8年度 samples: on request only (issue #13)
        from samples.gl7 import build_gl7
        for path, truth in build_gl7(out):
            write_truth(path, truth)
            written.append(path)
    if only == "mds2":  # NEMA MDS2 (HN 1-2019) samples, XLSX and PDF print: on request only (issue #14)
        from samples.mds2 import build_mds2, render_hn2013
        from samples.mds2_pairs import build_pairs
        for path, truth in build_mds2(out, pdf=pdf) + build_pairs(out) + [render_hn2013(out / "Quillon_MDS2_2013.xlsx")]:
            write_truth(path, truth)
            written.append(path)
    if only == "feeds":  # vulnerability feeds, SBOMs and their ledger (issue 15): on request only
        from samples.feeds import build_feeds
        for path, truth in build_feeds(out):
            write_truth(path, truth)
            written.append(path)
    if pdf and (only is None or only == "pdf"):
        try:
            from samples.pdf_builder import build_pdf_samples
        except ImportError:
            build_pdf_samples = None
        if build_pdf_samples is not None:
            written.extend(Path(p) for p in build_pdf_samples(out))
            from samples.pdf_builder import build_printed_and_scanned
            written.extend(build_printed_and_scanned(out))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="サンプルの業者提出ファイルと正解データ（.truth.json）を作成します。")
    parser.add_argument("--out", required=True, type=Path, help="出力先フォルダ")
    parser.add_argument("--only", default=None, help="ファイル名・様式名・業者キーにこの文字列を含むものだけ作成")
    parser.add_argument("--no-legacy", action="store_true", help="LibreOffice による .xls/.doc の作成を省略")
    parser.add_argument("--no-pdf", action="store_true", help="PDF サンプル（samples/pdf_builder.py）を作成しない")
    args = parser.parse_args(argv)
    written = build(args.out, args.only, legacy=not args.no_legacy, pdf=not args.no_pdf)
    for p in written:
        print(p.name)
    print(f"{len(written)} 件のサンプルを {args.out} に作成しました。", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
