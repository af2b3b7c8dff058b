"""Legacy .xls and .doc copies of one XLSX and one DOCX sample, made with LibreOffice headless.

docx → doc goes via odt (a direct conversion drops python-docx tables); each run uses a private
LibreOffice profile in a temporary directory. The truth is the source sample's truth under the new
name, with `duplicate_of` naming the source (a vendor re-sending the same form in the old format).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

LEGACY = (
    # (source builder key, legacy file name, LibreOffice steps)
    ("A_mds", "NEXT-Chart_開示書_旧形式.xls", ("xls:MS Excel 97",)),
    ("D_mds", "東邦メディカルシステム_開示書_旧形式.doc", ("odt", "doc:MS Word 97")),
)


def soffice_binary() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(src: Path, target: str, outdir: Path, profile: Path) -> Path:
    """One LibreOffice conversion; returns the produced file."""
    cmd = [soffice_binary(), f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", target,
           "--outdir", str(outdir), str(src)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=180)
    produced = outdir / (src.stem + "." + target.split(":")[0])
    if not produced.exists():
        raise RuntimeError(f"LibreOffice が {produced.name} を作成しませんでした。")
    return produced


def _source(key: str, tmp: Path):
    if key == "A_mds":
        from samples.office_xlsx import render_xlsx
        from samples.styles import XLSX_STYLES
        from samples.vendors import vendor_a

        sub = vendor_a()[0][0]
        path = tmp / "src_a.xlsx"
        render_xlsx(sub, path, XLSX_STYLES[key])
        return sub, path
    from samples.docx_vendors import DOCX_STYLES, vendor_d
    from samples.office_docx import render_docx

    sub = vendor_d()[0][0]
    path = tmp / "src_d.docx"
    render_docx(sub, path, DOCX_STYLES[key])
    return sub, path


def build_legacy(out: Path):
    if soffice_binary() is None:
        print("LibreOffice (soffice) が見つからないため .xls/.doc のサンプルを作成しません。", file=sys.stderr)
        return
    out = Path(out)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        profile = tmp / "lo_profile"
        for key, name, steps in LEGACY:
            sub, src = _source(key, tmp)
            current = src
            for k, target in enumerate(steps):
                step_dir = tmp / f"{key}_{k}"
                step_dir.mkdir()
                current = convert(current, target, step_dir, profile)
            dest = out / name
            shutil.copyfile(current, dest)
            truth = sub.truth()
            truth.update(file=name, convention=f"legacy-{dest.suffix[1:]} (LibreOffice copy of {sub.convention})",
                         duplicate_of=sub.file)
            yield dest, truth
