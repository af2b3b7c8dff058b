"""`make bench`, the parts a user sees: whole `mdsgap run` commands (start-up included) for the first run and
a run with nothing new, a table per format, and the scanned-PDF path per page.

Used by pipeline.bench; separate to keep each module small.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pipeline
from pipeline.config import FAILED_DIR, PROCESSED_DIR, STORE_NAME

# --- peak memory of the process tree -----------------------------------------------------------------------

def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def tree_rss_mb(root: int | None = None) -> float:
    """RSS of a process and all its descendants, in MB (Linux /proc)."""
    todo, total, seen = [root or os.getpid()], 0, set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _rss_kb(pid)
        todo += _children(pid)
    return total / 1024


class PeakMemory:
    """Samples the process tree's RSS every `interval` seconds in a thread; `.peak_mb` and `.peak_self_mb`."""

    def __init__(self, interval: float = 0.2):
        self.interval = interval
        self.peak_mb = 0.0
        self.peak_self_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        self.peak_mb = max(self.peak_mb, tree_rss_mb())
        self.peak_self_mb = max(self.peak_self_mb, _rss_kb(os.getpid()) / 1024)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()



_FILE_LINE = re.compile(r"file (?P<name>.+?) (?:read|failed): .*?((?:read|interpret)=[\d.]+s.*)$")
_SECONDS = re.compile(r"(read|interpret)=([\d.]+)s")


def _cpu_ticks(pid: int) -> int:
    """User and system CPU of a process so far, in clock ticks (Linux /proc)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


class _ChildPeak(PeakMemory):
    """Peak RSS of a child process and its descendants (workers, Prefect's temporary server, LibreOffice), and
    the CPU they used (`cpu_s`, each process's CPU at the last look before it ended: the workers and the server
    are not waited for by the run, so the kernel's account of a child's children misses them)."""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(interval)
        self.pid = pid
        self._ticks: dict[int, int] = {}

    def sample(self) -> None:
        """One walk of the tree: its RSS now, and each process's CPU so far."""
        todo, seen, rss_kb = [self.pid], set(), 0
        while todo:
            pid = todo.pop()
            if pid not in seen:
                seen.add(pid)
                rss_kb += _rss_kb(pid)
                self._ticks[pid] = max(self._ticks.get(pid, 0), _cpu_ticks(pid))
                todo += _children(pid)
        self.peak_mb = max(self.peak_mb, rss_kb / 1024)
        self.peak_self_mb = max(self.peak_self_mb, _rss_kb(self.pid) / 1024)  # the run's own process

    @property
    def cpu_s(self) -> float:
        return sum(self._ticks.values()) / os.sysconf("SC_CLK_TCK")


def run_command(inbox: Path, out: Path, as_of: str, config: Path | None, workers: int = 0) -> dict:
    """One `mdsgap run` in a new process: wall seconds, peak RSS of its tree, its exit code, its run log."""
    cmd = [sys.executable, "-m", "pipeline.cli", "run", "--inbox", str(inbox), "--out", str(out), "--as-of", as_of]
    if config is not None:
        cmd += ["--config", str(config)]
    if workers:
        cmd += ["--workers", str(workers)]
    env = {**os.environ, "PYTHONPATH": str(pipeline.PROJECT_ROOT), "COLUMNS": "200"}
    env.pop("PREFECT_API_URL", None)  # the user's command: its own temporary server unless `mdsgap server` runs
    logs_before = set((out / "logs").glob("run-*.log")) if (out / "logs").is_dir() else set()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=pipeline.PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    with _ChildPeak(proc.pid, interval=0.1) as mem:
        stdout, stderr = proc.communicate()
    wall = time.perf_counter() - start
    logs = sorted(set((out / "logs").glob("run-*.log")) - logs_before) if (out / "logs").is_dir() else []
    return {"seconds": wall, "cpu_s": mem.cpu_s, "peak_rss_mb": mem.peak_mb, "peak_rss_main_mb": mem.peak_self_mb,
            "returncode": proc.returncode,
            "stdout": stdout[-3000:], "stderr": stderr[-3000:], "log": str(logs[-1]) if logs else ""}


# Prefect's server creates its SQLite database on its first start on a machine and runs every migration (about
# 5 s of CPU, a first run 2 s slower); each later start only checks it (0.1 s). The bench has it made before
# timing, with Prefect's own command, as `make setup` makes the venv: the first run it times is a first run
# over new files, not the machine's first Prefect start. The seconds are reported.
def prepare_prefect_database() -> float:
    """`prefect server database upgrade -y` for the PREFECT_HOME `mdsgap run` will use; its wall seconds."""
    env = {**os.environ, "PYTHONPATH": str(pipeline.PROJECT_ROOT)}
    env.pop("PREFECT_API_URL", None)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import pipeline, sys; from prefect.cli import app; sys.exit(app())",
                    "server", "database", "upgrade", "-y"], cwd=pipeline.PROJECT_ROOT, env=env,
                   capture_output=True, text=True, check=True)
    return time.perf_counter() - start


def compile_project() -> None:
    """Python's bytecode of the project's packages, written once as a user's first run writes it: a shell with
    PYTHONDONTWRITEBYTECODE set would otherwise have every timed run compile them again (about 0.5 s of CPU in
    the run's process and its forkserver). Imports read existing bytecode whatever that setting says."""
    import compileall

    for package in ("extractors", "rules", "pipeline"):
        compileall.compile_dir(pipeline.PROJECT_ROOT / package, quiet=1)


def worker_seconds_by_format(log_file: str) -> dict[str, float]:
    """read + interpret seconds per file suffix, from the run log's per-file lines."""
    out: dict[str, float] = {}
    if not log_file:
        return out
    for line in Path(log_file).read_text(encoding="utf-8", errors="replace").splitlines():
        m = _FILE_LINE.search(line)
        if not m:
            continue
        fmt = Path(m["name"]).suffix.lower().lstrip(".") or "?"
        out[fmt] = out.get(fmt, 0.0) + sum(float(s) for _, s in _SECONDS.findall(m.group(2)))
    return out


def format_table(counts: dict[str, int], baseline: dict[str, float], pipeline_s: dict[str, float]) -> str:
    lines = ["形式     件数   基準(解析のみ)   読取+解釈(ワーカー合計)   比",
             "-------  -----  ---------------  ------------------------  -----"]
    for fmt in sorted(set(counts) | set(baseline) | set(pipeline_s)):
        b, p = baseline.get(fmt, 0.0), pipeline_s.get(fmt, 0.0)
        ratio = f"{p / b:5.2f}" if b else "    -"
        lines.append(f"{fmt:<7}  {counts.get(fmt, 0):5d}  {b:13.2f} s  {p:22.2f} s  {ratio}")
    return "\n".join(lines)


MARK_STEPS = ("find_strikes", "find_ellipses", "drop_ellipse_edges", "cell_fill", "find_checks")


def _no_marks(name: str):
    """A mark step that finds nothing (the page read without the OpenCV marks step)."""
    if name == "drop_ellipse_edges":
        return lambda strikes, ellipses: list(strikes)
    if name in ("cell_fill", "find_checks"):
        return lambda *args, **kwargs: None
    return lambda *args, **kwargs: []


def _time_scan_pages(pdfs: list[Path], marks: bool) -> dict:
    """Read every page of `pdfs` with the scan reader; with marks=False the OpenCV mark steps find nothing.
    The mark steps' own time is measured around them (marks=True)."""
    from extractors.readers import scan

    spent = {"s": 0.0}
    originals = {name: getattr(scan, name) for name in MARK_STEPS}
    for name, func in originals.items():
        def timed(*args, _func=func, **kwargs):
            t = time.perf_counter()
            try:
                return _func(*args, **kwargs)
            finally:
                spent["s"] += time.perf_counter() - t

        setattr(scan, name, timed if marks else _no_marks(name))
    out = {"files": 0, "pages": 0, "seconds": 0.0, "marks_s": 0.0, "stages_s": {}}
    try:
        import pdfplumber

        for path in pdfs:
            with pdfplumber.open(path) as pdf:
                n = len(pdf.pages)
            out["files"] += 1
            for page in range(1, n + 1):
                t = time.perf_counter()
                scan.read_scanned_page(path, page)
                out["seconds"] += time.perf_counter() - t
                out["pages"] += 1
                for k, v in scan.last_stats.timings.items():
                    out["stages_s"][k] = out["stages_s"].get(k, 0.0) + v
    finally:
        for name, func in originals.items():
            setattr(scan, name, func)
    out["marks_s"] = spent["s"]
    return out


def measure_scans(pdfs: list[Path]) -> dict:
    """Seconds per scanned page: read whole, and read again with the OpenCV marks step (ellipses, strikes,
    fills, checks) finding nothing; the marks step's own time is measured around it in the first."""
    from extractors.readers.sniff import sniff  # noqa: F401  (same import cost as the reader)

    _time_scan_pages(pdfs[:1], True)  # imports, Tesseract's first start: not a page's cost
    out = _time_scan_pages(pdfs, True)
    out["without_marks"] = _time_scan_pages(pdfs, False)
    return out


def report_scans(s: dict) -> None:
    if not s.get("pages"):
        print("スキャンPDF: 測定なし")
        return
    per = s["seconds"] / s["pages"]
    bare = s.get("without_marks") or {}
    without = bare["seconds"] / bare["pages"] if bare.get("pages") else (s["seconds"] - s["marks_s"]) / s["pages"]
    stages = "  ".join(f"{k} {v / s['pages']:.2f}s" for k, v in s["stages_s"].items())
    print("スキャンPDF（OCR、1ページあたり）:")
    print(f"  {'読み取り':<10}  ページ  秒/ページ")
    print(f"  {'印の検出あり':<10}  {s['pages']:6d}  {per:8.2f}   （うち印の検出 OpenCV {s['marks_s'] / s['pages']:.2f}s、"
          f"段階: {stages}）")
    print(f"  {'印の検出なし':<10}  {bare.get('pages', s['pages']):6d}  {without:8.2f}")


def _last_run_summary(out: Path) -> dict:
    from pipeline.store import Store

    with Store.open(out) as store:
        return store.last_run_summary() or {}


def bench_commands(corpus: list[Path], inbox: Path, work: Path, baseline, workers: int, as_of, scans: list[Path],
                   parse, repeat: int = 1, served: bool = False) -> dict:
    """`repeat` first `mdsgap run`s over the corpus (each into a new output folder), each between two bare
    parsings (`parse(paths)`, pipeline.bench's baseline; `baseline` is the first), then two runs with nothing
    new: an empty inbox (a cron job or `mdsgap watch` finding nothing) and the same files dropped again (all
    known by sha256).

    A first run's ratio is its time over the mean of the parsings just before and after it. On a shared
    machine one run's ratio moved between 1.28 and 1.83 with the same code (the machine's speed changes within
    a minute, and a two-core run and a one-core parsing feel it differently): the ratio reported is the
    median of the rounds, each one listed.

    The arrival check's waits (1 s between two looks, 5 s of quiet by default: sleeps, not work) are set
    short in a bench config so that the ratios compare work.

    `served`: afterwards the same rounds again while an `mdsgap server` runs (SCALE.md §3, the way `mdsgap
    watch --serve` runs): each run finds it and starts no temporary server of its own."""
    import datetime as dt
    import statistics

    from pipeline.scale import answering_recorded_server, auto_workers, cpu_count

    config = work / "bench.yaml"
    config.write_text("stable_interval: 0.2\nstable_quiet: 0\n", encoding="utf-8")
    copies = {p.name: p.read_bytes() for p in corpus}
    out = work / "out"
    day = as_of.isoformat()
    database_s = prepare_prefect_database()
    compile_project()
    load_before = os.getloadavg()[0]
    api = "recorded" if answering_recorded_server() else "temporary"
    rounds, first, after = _first_runs(inbox, out, day, config, workers, copies, work, parse, baseline, repeat)
    ratio = statistics.median(r["ratio"] for r in rounds)
    summary = _last_run_summary(out) if first["returncode"] == 0 else {}
    empty = run_command(inbox, out, day, config, workers)
    _refill(inbox, copies)
    known = run_command(inbox, out, day, config, workers)
    known_summary = _last_run_summary(out) if known["returncode"] == 0 else {}
    timings = summary.get("timings", {})
    counts: dict[str, int] = {}
    for p in corpus:
        fmt = p.suffix.lower().lstrip(".") or "?"
        counts[fmt] = counts.get(fmt, 0) + 1
    docs = len(summary.get("read", [])) + len(summary.get("failures", []))
    wall = first["seconds"]
    return {
        "timestamp": dt.datetime.now().isoformat(timespec="seconds"),
        "workers": workers or auto_workers(len(corpus)), "cores": cpu_count(), "api": "mdsgap run",
        "load_avg": os.getloadavg()[0], "load_avg_before": load_before,
        "documents": docs, "read_ok": len(summary.get("read", [])), "failed": len(summary.get("failures", [])),
        "items": summary.get("items_read", 0), "pdf_pages": summary.get("pages", 0),
        "pipeline_s": wall, "stages_s": timings, "docs_per_s": docs / wall if wall else 0.0,
        "pages_per_s": (summary.get("pages", 0) / timings["pdf"]) if timings.get("pdf") else 0.0,
        "baseline_s": (rounds[-1]["baseline_before_s"] + after.seconds) / 2,
        "baseline_before_s": rounds[-1]["baseline_before_s"], "baseline_after_s": after.seconds, "rounds": rounds,
        "baseline_by_format_s": {k: (v + after.by_format.get(k, v)) / 2 for k, v in baseline.by_format.items()},
        "ratio": ratio,
        "noop_empty_s": empty["seconds"], "rerun_s": known["seconds"],
        "rerun_skipped": len(known_summary.get("duplicates", [])),
        "noop_empty_fraction": empty["seconds"] / wall if wall else float("nan"),
        "rerun_fraction": known["seconds"] / wall if wall else float("nan"),
        "server_start_s": float("nan"), "prefect_overhead_s": wall - timings.get("flow", wall),
        "prefect_database_s": database_s,
        "peak_rss_mb": max(r["peak_rss_mb"] for r in rounds), "peak_rss_main_mb": first["peak_rss_main_mb"],
        "peak_rss_noop_mb": max(empty["peak_rss_mb"], known["peak_rss_mb"]),
        "format_counts": counts, "worker_by_format_s": worker_seconds_by_format(first["log"]),
        "returncodes": [r["returncode"] for r in rounds] + [empty["returncode"], known["returncode"]],
        "errors": [r["stderr"] for r in (*rounds, empty, known) if r["returncode"]],
        "scans": measure_scans(scans) if scans else {},
        "api_first_runs": api, "served": _served_rounds(inbox, out, day, config, workers, copies, work, parse,
                                                        after, repeat) if served else {},
    }


def _first_runs(inbox: Path, out: Path, day: str, config: Path, workers: int, copies: dict[str, bytes],
                work: Path, parse, before, repeat: int) -> tuple[list[dict], dict, object]:
    """`repeat` first runs, each into a new output folder and between two bare parsings (`before` is the
    parsing just done): the rounds, the last run and the last parsing."""
    rounds = []
    for i in range(max(1, repeat)):
        if i or (out / STORE_NAME).exists():  # the same first run again: no store, no outputs, the inbox as it was
            for folder in (out, inbox / PROCESSED_DIR, inbox / FAILED_DIR):
                shutil.rmtree(folder, ignore_errors=True)
            _refill(inbox, copies)
        first = run_command(inbox, out, day, config, workers)
        after = baseline_again(copies, work, parse)
        baseline_cpu = (before.cpu_seconds + after.cpu_seconds) / 2
        rounds.append({"seconds": first["seconds"], "baseline_before_s": before.seconds,
                       "baseline_after_s": after.seconds, "peak_rss_mb": first["peak_rss_mb"],
                       "ratio": 2 * first["seconds"] / (before.seconds + after.seconds),
                       "cpu_s": first["cpu_s"], "baseline_cpu_s": baseline_cpu,
                       "cpu_ratio": first["cpu_s"] / baseline_cpu if baseline_cpu else float("nan"),
                       "returncode": first["returncode"], "stderr": first["stderr"]})
        before = after
    return rounds, first, before


def _served_rounds(inbox: Path, out: Path, day: str, config: Path, workers: int, copies: dict[str, bytes],
                   work: Path, parse, before, repeat: int) -> dict:
    """The first runs again while an `mdsgap server` runs: one started here on a free port of this machine (its
    start is not timed, it is paid once), or the user's own when one is recorded and answers (left running)."""
    import statistics

    from pipeline.ephemeral import free_port
    from pipeline.scale import answering_recorded_server, api_healthy, recorded_server

    server, log_path = None, work / "mdsgap-server.log"
    with log_path.open("wb") as log:
        try:
            if not answering_recorded_server():
                port = free_port()
                server = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "server", "--port", str(port)],
                                          cwd=pipeline.PROJECT_ROOT, stdout=log, stderr=log,
                                          env={**os.environ, "PYTHONPATH": str(pipeline.PROJECT_ROOT)})
                url = f"http://127.0.0.1:{port}/api"
                deadline = time.monotonic() + 180
                while not (recorded_server() == url and api_healthy(url)):
                    if server.poll() is not None or time.monotonic() > deadline:
                        return {"error": f"mdsgap server が起動しませんでした（{log_path}）"}
                    time.sleep(0.5)
            rounds, _, _ = _first_runs(inbox, out, day, config, workers, copies, work, parse, before, repeat)
        finally:
            if server is not None:  # as Ctrl-C or a service manager stops it: its record is removed
                server.terminate()
                try:
                    server.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    server.kill()
    return {"rounds": rounds, "ratio": statistics.median(r["ratio"] for r in rounds),
            "started_here": server is not None}


def _refill(folder: Path, copies: dict[str, bytes]) -> list[Path]:
    """The corpus's bytes written into `folder` again; their paths."""
    for name, data in copies.items():
        (folder / name).write_bytes(data)
    return [folder / name for name in copies]


def baseline_again(copies: dict[str, bytes], work: Path, parse):
    """Bare parsing (`parse(paths)`) of the same bytes once more, after the first run."""
    folder = work / "baseline-after"
    folder.mkdir(exist_ok=True)
    return parse(_refill(folder, copies))


def report_commands(r: dict) -> None:
    st = r["stages_s"]
    print(f"\n=== mdsgap bench（mdsgap run コマンド、起動込み）: N={r['n']}  workers={r['workers']}  "
          f"コア {r['cores']}  負荷 {r['load_avg_before']:.1f} → {r['load_avg']:.1f} ===")
    if r["errors"]:
        print("失敗した実行があります:\n" + "\n".join(r["errors"]))
    print(f"書類: {r['documents']} 件（読取 {r['read_ok']} / 失敗 {r['failed']}、項目 {r['items']}）  "
          f"PDF {r['pdf_pages']} ページ")
    print(format_table(r["format_counts"], r["baseline_by_format_s"], r["worker_by_format_s"]))
    if r.get("api_first_runs") == "recorded":
        print("（注）記録された mdsgap server が応答したため、初回の実行も一時サーバーを起動していません。")
    print(f"初回の mdsgap run: {r['pipeline_s']:.2f} s   {r['docs_per_s']:.1f} 書類/秒"
          f"（その前に Prefect のデータベースを準備 {r['prefect_database_s']:.1f} s、計測外: 作成はマシンで初回のみ）")
    print(f"  フロー本体 {st.get('flow', 0):.2f}s（読込 {st.get('read', 0):.2f}s + 解釈 {st.get('interpret', 0):.2f}s"
          f" ワーカー合計、抽出ループ {st.get('extract', 0):.2f}s、ルール {st.get('rules', 0):.2f}s、"
          f"回答表 {st.get('answers', 0):.2f}s、登録簿 {st.get('register', 0):.2f}s、報告書 {st.get('reports', 0):.2f}s）")
    print(f"  フロー外（Python と Prefect の起動、一時サーバー、ワーカー起動、終了処理）: {r['prefect_overhead_s']:.2f}s")
    print(f"基準（解析のみ、1プロセス）: {r['baseline_s']:.2f} s（初回の前 {r['baseline_before_s']:.2f} s と"
          f"後 {r['baseline_after_s']:.2f} s の平均）")
    rounds = r.get("rounds") or []
    if len(rounds) > 1:
        print(f"比 初回 / 基準 = {r['ratio']:.2f}（目標 1.5 以下。{len(rounds)} 回の中央値: "
              + "、".join(f"{x['seconds']:.2f} s / {(x['baseline_before_s'] + x['baseline_after_s']) / 2:.2f} s"
                         f" = {x['ratio']:.2f}" for x in rounds) + "）")
    else:
        print(f"比 初回 / 基準 = {r['ratio']:.2f}（目標 1.5 以下。前の基準とは {r['pipeline_s'] / r['baseline_before_s']:.2f}、"
              f"後の基準とは {r['pipeline_s'] / r['baseline_after_s']:.2f}）")
    if rounds and "cpu_s" in rounds[0]:
        print("CPU 初回 / 基準（他の処理に左右されにくい量。実効コア数 = 初回の CPU / 実時間）: "
              + "、".join(f"{x['cpu_s']:.1f} s / {x['baseline_cpu_s']:.1f} s = {x['cpu_ratio']:.2f}"
                         f"（実効 {x['cpu_s'] / x['seconds']:.2f} コア）" for x in rounds))
    served = r.get("served") or {}
    if served.get("error"):
        print(f"常駐サーバーでの初回: {served['error']}")
    elif served:
        print(f"常駐サーバー（mdsgap server、起動は計測外）を使う初回: 比 = {served['ratio']:.2f}（"
              + "、".join(f"{x['seconds']:.2f} s / {(x['baseline_before_s'] + x['baseline_after_s']) / 2:.2f} s"
                         f" = {x['ratio']:.2f}" for x in served["rounds"]) + "）")
        print("  CPU 初回 / 基準（サーバーの CPU は含まない）: "
              + "、".join(f"{x['cpu_s']:.1f} s / {x['baseline_cpu_s']:.1f} s = {x['cpu_ratio']:.2f}"
                         for x in served["rounds"]))
    print(f"新しいファイルなし: 空の受信フォルダ {r['noop_empty_s']:.2f} s（初回の {r['noop_empty_fraction']:.3f}）、"
          f"同じ {r['rerun_skipped']} 件を再投入 {r['rerun_s']:.2f} s（初回の {r['rerun_fraction']:.3f}、目標 0.1 以下）")
    print(f"ピークメモリ（RSS、mdsgap run とその子プロセス全体）: 初回 {r['peak_rss_mb']:.0f} MB"
          f"（mdsgap run の本体 {r['peak_rss_main_mb']:.0f} MB）、"
          f"新しいファイルなし {r['peak_rss_noop_mb']:.0f} MB")
    report_scans(r.get("scans") or {})
