"""`make bench`: throughput of the real pipeline over a generated corpus, against bare parsing.

    python -m pipeline.bench [--n 280] [--workers 0] [--runner auto] [--scan/--no-scan] [--legacy/--no-legacy]
                             [--repeat 3] [--served]

1. Builds the sample vendor files once (`samples.build`, cached in .bench/samples), and makes a corpus of N
   submissions by copying them round-robin with a small unique change so that every copy has its own
   sha256: a zip comment for xlsx/docx, a trailing PDF comment after %%EOF, appended bytes for the
   LibreOffice-read legacy files and the deliberately broken ones.
2. Baseline: the same files parsed with nothing else, in one fresh process: pdfplumber text of every page for
   PDFs, openpyxl `load_workbook` / python-docx `Document` for Office files, LibreOffice conversion plus
   that load for .xls/.doc.
3. The pipeline: the real Prefect flow (`process_inbox`) over the corpus, with the task runner chosen for
   --workers, timed per stage; Prefect's own overhead = the flow call's wall time minus the flow body.
   `mdsgap run` commands (the default): `--repeat` first runs, each into a new output folder and between two
   baseline measurements; the ratio is the median of the rounds' ratios (pipeline.bench_run.bench_commands).
4. A second run over the same, unchanged files (copied into the inbox again: all skipped by sha256).
5. Peak RSS of the whole process tree (this process and every worker, measured by sampling /proc).

Results: `.bench/results-<timestamp>.json` and one line appended to `.bench/history.csv`.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pipeline
from pipeline.bench_run import PeakMemory, bench_commands, report_commands, tree_rss_mb  # noqa: F401
from pipeline.inbox import is_candidate

BENCH_DIR = pipeline.PROJECT_ROOT / ".bench"
LEGACY_KINDS = {".xls", ".doc"}
HISTORY_COLUMNS = ["timestamp", "n", "workers", "runner", "scan", "documents", "pdf_pages", "failed",
                   "pipeline_s", "baseline_s", "ratio", "docs_per_s", "pages_per_s", "rerun_s",
                   "server_start_s", "prefect_overhead_s", "peak_rss_mb", "load_avg"]


# --- corpus ------------------------------------------------------------------------------------------------

def build_samples(cache: Path, scan: bool) -> list[Path]:
    """The sample builder's vendor files (cached: built once per machine), without truth sidecars."""
    base = cache / "samples"
    if not (base / ".complete").exists():
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        subprocess.run([sys.executable, "-m", "samples.build", "--out", str(base)], check=True,
                       cwd=pipeline.PROJECT_ROOT, stdout=subprocess.DEVNULL)
        (base / ".complete").touch()
    files = [p for p in sorted(base.iterdir()) if p.is_file() and is_candidate(p)]
    if scan:
        return files + build_scans(cache)
    return [p for p in files if not image_only_pdf(p)]  # born-digital: the OCR path only with --scan


def image_only_pdf(path: Path) -> bool:
    """A PDF whose pages carry no text layer (a scan: read by OCR)."""
    if path.suffix.lower() != ".pdf":
        return False
    import pdfplumber

    try:
        with pdfplumber.open(path) as pdf:
            return not any(page.chars for page in pdf.pages)
    except Exception:  # noqa: BLE001 - a broken sample stays in the corpus (it fails in both)
        return False


def build_scans(cache: Path) -> list[Path]:
    """Image-only scanned PDFs (OCR path), from samples.scan_builder when it is present."""
    scans = cache / "scans"
    if not (scans / ".complete").exists():
        from samples.scan_builder import build_scan_samples, draw_source_pdfs

        shutil.rmtree(scans, ignore_errors=True)
        scans.mkdir(parents=True)
        build_scan_samples(draw_source_pdfs(scans / "src"), scans)
        (scans / ".complete").touch()
    return [p for p in sorted(scans.glob("*.pdf"))]


def scan_pages(cache: Path, samples: list[Path]) -> list[Path]:
    """The image-only PDFs to time the scanned-PDF path on: the corpus's own (with --scan), else the sample
    builder's scans (a few pages; the bench's corpus is born-digital by default)."""
    scans = [p for p in samples if image_only_pdf(p)]
    if scans:
        return scans
    base = cache / "samples"
    return [p for p in sorted(base.iterdir()) if p.is_file() and is_candidate(p) and image_only_pdf(p)]


def make_unique_copy(src: Path, dest: Path, tag: str) -> None:
    """Copy `src` to `dest` changed just enough for a new sha256; the content stays readable."""
    shutil.copyfile(src, dest)
    marker = f"mdsgap-bench {tag}".encode()
    if zipfile.is_zipfile(dest):
        with zipfile.ZipFile(dest, "a") as zf:
            zf.comment = marker
        return
    with open(dest, "ab") as f:  # PDF: a comment after %%EOF; others: trailing bytes
        f.write(b"\n%" + marker + b"\n" if src.suffix.lower() == ".pdf" else marker)


def make_corpus(samples: list[Path], n: int, inbox: Path, legacy: bool = True) -> list[Path]:
    """N files copied round-robin from the samples, each with a unique name and sha256."""
    pool = [p for p in samples if legacy or p.suffix.lower() not in LEGACY_KINDS]
    inbox.mkdir(parents=True, exist_ok=True)
    corpus = []
    for i in range(n):
        src = pool[i % len(pool)]
        dest = inbox / f"b{i:05d}_{src.name}"
        make_unique_copy(src, dest, f"{i:05d}")
        corpus.append(dest)
    return corpus


# --- baseline: bare parsing ----------------------------------------------------------------------------------

@dataclass
class Baseline:
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # CPU of the parsing (its wall time also counts what else the machine runs)
    by_format: dict[str, float] = field(default_factory=dict)
    pdf_pages: int = 0
    failed: int = 0


def _bare_parse(path: Path, workdir: Path) -> int:
    """Parse one file with the bare library only; returns PDF pages read (0 for others)."""
    from extractors.readers.sniff import sniff

    kind = sniff(path)
    kind = getattr(kind, "kind", kind)
    if kind == "pdf":
        import pdfplumber

        with pdfplumber.open(path) as pdf:
            for page in pdf.pages:
                page.extract_text()
            return len(pdf.pages)
    if kind in ("xls", "doc"):
        from extractors.readers.legacy import convert

        converted = convert(path, kind, Path(tempfile.mkdtemp(dir=workdir)))
        kind, path = converted.suffix.lstrip("."), converted
    if kind == "xlsx":
        import openpyxl

        openpyxl.load_workbook(path).close()
    elif kind == "docx":
        import docx

        docx.Document(str(path))
    else:
        raise ValueError(kind)
    return 0


def run_baseline(files: list[Path], workdir: Path) -> Baseline:
    """`parse_all` in a fresh process of its own, so that nothing else is in the baseline's heap: in this process
    the bench's own objects and camelot (imported for its check) made the full collections during bare parsing
    take half as long again (0.93 s against 0.65 s for 140 files), which slowed the baseline and flattered the
    ratio."""
    code = ("import json, sys\nfrom dataclasses import asdict\nfrom pathlib import Path\n"
            "from pipeline.bench import parse_all\nask = json.load(sys.stdin)\n"
            "print(json.dumps(asdict(parse_all([Path(p) for p in ask['files']], Path(ask['work'])))))")
    ask = json.dumps({"files": [str(p) for p in files], "work": str(workdir)})
    done = subprocess.run([sys.executable, "-c", code], input=ask, capture_output=True, text=True, check=True,
                          cwd=pipeline.PROJECT_ROOT)
    return Baseline(**json.loads(done.stdout.strip().splitlines()[-1]))


def parse_all(files: list[Path], workdir: Path) -> Baseline:
    """Bare parsing of `files`, each timed."""
    result = Baseline()
    cpu_start = _cpu_with_children()
    for path in files:
        fmt = path.suffix.lower().lstrip(".") or "?"
        start = time.perf_counter()
        try:
            result.pdf_pages += _bare_parse(path, workdir)
        except Exception:  # noqa: BLE001 - broken samples fail here as in the pipeline; still timed
            result.failed += 1
        seconds = time.perf_counter() - start
        result.seconds += seconds
        result.by_format[fmt] = result.by_format.get(fmt, 0.0) + seconds
    result.cpu_seconds = _cpu_with_children() - cpu_start
    return result


def _cpu_with_children() -> float:
    """CPU of this process and of the children it waited for (LibreOffice's conversions of .xls/.doc)."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


# --- the pipeline ------------------------------------------------------------------------------------------------

def start_prefect_api() -> tuple[str, float]:
    """Make sure a Prefect API is up before timing the flow; returns (mode, seconds it took)."""
    from pipeline.scale import configure_api

    mode = configure_api()
    start = time.perf_counter()
    if mode == "ephemeral":
        from prefect.server.api.server import SubprocessASGIServer

        SubprocessASGIServer().start()
    return mode, time.perf_counter() - start


def run_pipeline(inbox: Path, out: Path, workers: int, runner: str, as_of: dt.date) -> tuple[object, float]:
    from pipeline.flow import process_inbox
    from pipeline.scale import make_task_runner

    flow = process_inbox.with_options(task_runner=make_task_runner(workers, runner))
    start = time.perf_counter()
    summary = flow(inbox=inbox, out=out, as_of=as_of)
    return summary, time.perf_counter() - start


def _fmt(seconds: float) -> str:
    return f"{seconds:7.2f} s"


def bench(n: int, workers: int, runner: str, scan: bool, legacy: bool, keep: bool = False,
          in_process: bool = False, repeat: int = 1, served: bool = False) -> dict:
    from pipeline.scale import auto_workers, cpu_count

    BENCH_DIR.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    samples = build_samples(BENCH_DIR, scan)
    work = Path(tempfile.mkdtemp(prefix="run-", dir=BENCH_DIR))
    inbox, out = work / "inbox", work / "out"
    corpus = make_corpus(samples, n, inbox, legacy)
    copies = {p.name: p.read_bytes() for p in corpus} if n <= 5000 else None
    print(f"コーパス: {len(corpus)} 件（元サンプル {len(samples)} 種）作成 {time.perf_counter() - t0:.1f} s")

    baseline = run_baseline(corpus, work)
    print(f"基準（ライブラリ単体の解析）: {baseline.seconds:.2f} s  "
          + "  ".join(f"{k} {v:.2f}s" for k, v in sorted(baseline.by_format.items())))

    second = measure_camelot([p for p in samples if p.suffix.lower() == ".pdf"])
    report_camelot(second)

    requested, workers = workers, workers or auto_workers(len(corpus))
    as_of = dt.date(2026, 11, 27)
    if not in_process:
        scans = scan_pages(BENCH_DIR, samples)  # the OCR path per page, measured even when not in the corpus
        result = bench_commands(corpus, inbox, work, baseline, requested, as_of, scans,
                                parse=lambda paths: run_baseline(paths, work), repeat=repeat, served=served)
        result.update(n=n, runner="mdsgap run", scan=scan, legacy=legacy, camelot=second)
        report_commands(result)
        save(result)
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
        return result
    mode, server_start = start_prefect_api()
    with PeakMemory() as mem:
        summary, wall = run_pipeline(inbox, out, workers, runner, as_of)
    timings = dict(summary.timings)
    overhead = wall - timings.get("flow", wall)

    # Second run: the same bytes again, nothing new to read.
    if copies is not None:
        for name, data in copies.items():
            (inbox / name).write_bytes(data)
        again, rerun_wall = run_pipeline(inbox, out, workers, runner, as_of)
        rerun_skipped = len(again.duplicates)
    else:
        rerun_wall, rerun_skipped = float("nan"), 0

    docs = len(summary.read) + len(summary.failures)
    pdf_files = [p for p in corpus if p.suffix.lower() == ".pdf"]
    result = {
        "timestamp": dt.datetime.now().isoformat(timespec="seconds"),
        "n": n, "workers": workers, "runner": runner, "scan": scan, "legacy": legacy, "cores": cpu_count(),
        "api": mode, "load_avg": os.getloadavg()[0],
        "documents": docs, "read_ok": len(summary.read), "failed": len(summary.failures),
        "items": summary.items_read, "pdf_files": len(pdf_files), "pdf_pages": summary.pages,
        "pipeline_s": wall, "flow_body_s": timings.get("flow", wall), "prefect_overhead_s": overhead,
        "server_start_s": server_start, "stages_s": timings,
        "docs_per_s": docs / wall if wall else 0.0,
        # per worker: PDF pages over the worker seconds spent on PDFs
        "pages_per_s": summary.pages / timings["pdf"] if summary.pages and timings.get("pdf") else 0.0,
        "baseline_s": baseline.seconds, "baseline_by_format_s": baseline.by_format,
        "baseline_pdf_pages": baseline.pdf_pages,
        "ratio": wall / baseline.seconds if baseline.seconds else float("nan"),
        "rerun_s": rerun_wall, "rerun_skipped": rerun_skipped,
        "rerun_fraction": rerun_wall / wall if wall else float("nan"),
        "peak_rss_mb": mem.peak_mb, "peak_rss_main_mb": mem.peak_self_mb,
        "camelot": second,
    }
    report(result)
    save(result)
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return result


def measure_camelot(pdfs: list[Path]) -> dict:
    """camelot's second reading of ruled tables (extractors/readers/pdf_camelot.py) against pdfplumber's own
    reading, on the distinct sample PDFs: seconds per page of each, and how often the two agree."""
    from extractors.readers import pdf as pdf_reader
    from extractors.readers import pdf_camelot

    t0 = time.perf_counter()
    import camelot  # noqa: F401 - its import (OpenCV, pandas) is paid once per worker process

    out = {"import_s": time.perf_counter() - t0, "files": 0, "pages": 0, "plumber_s": 0.0, "camelot_s": 0.0,
           "camelot_pages": 0, "rows": 0, "rows_agreed": 0, "cells": 0, "cells_agreed": 0, "not_compared": 0}
    for path in pdfs:
        pdf_camelot.ENABLED = False
        try:
            t = time.perf_counter()
            grid = pdf_reader.read_pdf(path)
            plumber = time.perf_counter() - t
        except Exception:  # noqa: BLE001 - a broken sample is measured by the pipeline, not here
            continue
        finally:
            pdf_camelot.ENABLED = True
        pages = len({t.page for t in grid.tables if t.page})
        if not any(pdf_camelot.is_ruled(t) for t in grid.tables):
            continue  # a scan (OCR) or a page without rules: camelot does not read it
        second = pdf_camelot.check_ruled_tables(path, grid.tables)
        out["files"] += 1
        out["pages"] += pages
        out["plumber_s"] += plumber
        out["camelot_s"] += second.seconds
        out["camelot_pages"] += second.pages
        for c in second.comparisons:
            if not c.compared:
                out["not_compared"] += 1
                continue
            out["rows"] += c.rows
            out["rows_agreed"] += c.rows_agreed
            out["cells"] += c.cells
            out["cells_agreed"] += c.cells_agreed
    return out


def report_camelot(c: dict) -> None:
    per = lambda s, n: s / n if n else 0.0  # noqa: E731
    print(f"camelot（罫線表の2つ目の読み取り）: 電子PDF {c['files']} 件 {c['pages']} ページ  "
          f"pdfplumber {per(c['plumber_s'], c['pages']):.2f} s/ページ  "
          f"camelot {per(c['camelot_s'], c['camelot_pages']):.2f} s/ページ（import {c['import_s']:.1f}s 別）  "
          f"一致 行 {c['rows_agreed']}/{c['rows']}  セル {c['cells_agreed']}/{c['cells']}  "
          f"照合できない表 {c['not_compared']}")


def report(r: dict) -> None:
    st = r["stages_s"]
    print(f"\n=== mdsgap bench: N={r['n']}  workers={r['workers']} ({r['runner']})  コア {r['cores']}  "
          f"API {r['api']}  負荷 {r['load_avg']:.1f} ===")
    print(f"書類: {r['documents']} 件（読取 {r['read_ok']} / 失敗 {r['failed']}、項目 {r['items']}）  "
          f"PDF {r['pdf_files']} 件 {r['pdf_pages']} ページ")
    print(f"パイプライン全体: {_fmt(r['pipeline_s'])}   {r['docs_per_s']:.1f} 書類/秒   "
          f"PDF {r['pages_per_s']:.1f} ページ/秒（1ワーカーあたり）")
    print(f"  段階別: 読込 {st.get('read', 0):.2f}s + 解釈 {st.get('interpret', 0):.2f}s（ワーカー合計）"
          f" → 抽出ループ {st.get('extract', 0):.2f}s（保存 {st.get('store', 0):.2f}s 含む）")
    print(f"          ルール {st.get('rules', 0):.2f}s  回答表 {st.get('answers', 0):.2f}s  "
          f"登録簿 {st.get('register', 0):.2f}s  報告書 {st.get('reports', 0):.2f}s")
    print(f"Prefect: サーバー起動 {r['server_start_s']:.2f}s、フロー実行の上乗せ {r['prefect_overhead_s']:.2f}s")
    print(f"基準（解析のみ、1プロセス）: {_fmt(r['baseline_s'])}   比 パイプライン/基準 = {r['ratio']:.2f}")
    print(f"再実行（変更なし {r['rerun_skipped']} 件）: {_fmt(r['rerun_s'])}  初回の {r['rerun_fraction']:.0%}")
    print(f"ピークメモリ（RSS、ワーカー含む）: {r['peak_rss_mb']:.0f} MB（本体 {r['peak_rss_main_mb']:.0f} MB）")


def save(r: dict) -> Path:
    stamp = r["timestamp"].replace(":", "").replace("-", "")
    path = BENCH_DIR / f"results-{stamp}.json"
    path.write_text(json.dumps(r, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    history = BENCH_DIR / "history.csv"
    new = not history.exists()
    with open(history, "a", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        if new:
            w.writerow(HISTORY_COLUMNS)
        w.writerow([round(r[c], 3) if isinstance(r[c], float) else r[c] for c in HISTORY_COLUMNS])
    print(f"結果: {path}（履歴 {history}）")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="パイプラインの処理速度・メモリを測定します。")
    parser.add_argument("--n", type=int, default=280, help="書類数（既定 280: issue #16 の測定条件）")
    parser.add_argument("--workers", type=int, default=0, help="並列プロセス数（0 = 自動）")
    parser.add_argument("--runner", default="auto", choices=["auto", "thread", "process", "dask"])
    parser.add_argument("--scan", action=argparse.BooleanOptionalAction, default=False,
                        help="スキャンPDF（OCR）を含める（遅い）")
    parser.add_argument("--legacy", action=argparse.BooleanOptionalAction, default=True,
                        help=".xls/.doc（LibreOffice 変換）を含める")
    parser.add_argument("--repeat", type=int, default=3,
                        help="初回の実行と基準の測定を交互に繰り返す回数（比はその中央値。既定 3）")
    parser.add_argument("--served", action="store_true",
                        help="続けて、常駐の mdsgap server を使う初回も同じ回数測る（§3 の運用。サーバーの起動は計測外）")
    parser.add_argument("--keep", action="store_true", help="作業フォルダを残す")
    parser.add_argument("--in-process", action="store_true",
                        help="mdsgap run コマンドではなく、このプロセス内でフローを呼び出して段階別に測る（--runner 用）")
    parser.add_argument("--feeds-only", action="store_true",
                        help="脆弱性情報（NVD 20,000 件）と機器台帳（500 台）の照合だけを測る")
    args = parser.parse_args(argv)
    from pipeline.bench_feeds import bench_feeds, report as report_feeds

    report_feeds(bench_feeds())  # issue 15: the feed matching stays linear
    if args.feeds_only:
        return 0
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    bench(args.n, args.workers, args.runner, args.scan, args.legacy, args.keep, args.in_process, args.repeat,
          args.served)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
