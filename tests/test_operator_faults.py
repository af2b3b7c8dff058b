"""Faults an operator meets, through the real `mdsgap run` (a subprocess): a full and a read-only output disk,
two runs at once, a run stopped with SIGTERM / SIGINT / SIGKILL, a file still being copied with pauses.

Each must print one Japanese line on stderr (never a traceback), exit non-zero, leave no process behind and
leave every inbox file accounted for exactly once (inbox, processed/ with its results stored, or failed/ with
its .error.txt), with the reviewer's edits in the register kept.

The disk faults use a small tmpfs mounted on the output folder (root only; skipped elsewhere). The unit tests
at the top need no run.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import openpyxl
import pytest

from extractors import file_sha256
from pipeline.inbox import check_arrivals
from tests.conftest import subprocess_env
from tests.office_files import fill_review, small_mds

ROOT = Path(__file__).resolve().parent.parent
MDSGAP = ROOT / ".venv" / "bin" / "mdsgap"
REVIEW = {"担当": "運用係 北村", "メモ": "次回の契約更新で協議する"}


def _form_bytes(vendor: str, tag: str) -> bytes:
    """A small real MDS workbook of an invented vendor; `tag` makes each one's bytes (and sha) its own."""
    return small_mds(vendor, f"{vendor}の分析装置 {tag}")


def _drop(inbox: Path, names: list[str], vendor: str) -> list[str]:
    for i, name in enumerate(names):
        (inbox / name).write_bytes(_form_bytes(vendor, f"{name}-{i}"))
    return names


# ------------------------------------------------------------------------------------------ unit part

def test_a_copy_that_pauses_is_left_for_the_next_run(tmp_path):
    """Size and mtime equal over one interval is not enough: the file must stay unchanged for `quiet` s."""
    done, paused = tmp_path / "done.xlsx", tmp_path / "paused.xlsx"
    data = _form_bytes("株式会社ほしぞら医工", "a")
    done.write_bytes(data)
    paused.write_bytes(data[:2000])
    clock = [max(os.stat(p).st_ctime for p in (done, paused))]  # the check's clock: starts as they were written
    sleeps = []

    def sleep(seconds):  # the copy writes its next chunk during the quiet wait, not during the interval
        sleeps.append(seconds)
        clock[0] += seconds
        if len(sleeps) == 2:
            with open(paused, "ab") as f:
                f.write(data[2000:4000])

    arrivals = check_arrivals([done, paused], interval=1.0, rounds=2, quiet=5.0, sleep=sleep,
                              clock=lambda: clock[0])
    assert arrivals.stable == [done] and arrivals.waiting == [paused]
    assert sleeps[0] == 1.0 and 0 < sleeps[1] <= 5.0  # one interval, then one quiet wait for all files


def test_files_quiet_long_enough_are_read_without_a_quiet_wait(tmp_path):
    old = tmp_path / "old.xlsx"
    old.write_bytes(_form_bytes("株式会社ほしぞら医工", "b"))
    stamp = time.time() - 60
    os.utime(old, (stamp, stamp))
    sleeps = []
    # the ctime moved with utime: the clock of the check is set past the quiet period
    arrivals = check_arrivals([old], interval=0.5, rounds=3, quiet=5.0, sleep=sleeps.append,
                              clock=lambda: time.time() + 10)
    assert arrivals.stable == [old] and sleeps == [0.5]


def test_a_truncated_read_of_a_file_still_growing_is_not_quarantined(tmp_path):
    """A real truncated XLSX fails as corrupt; when the file changes during the second look it is still
    arriving (stays in the inbox); when it does not, it is really broken (failed/)."""
    from extractors import extract
    from extractors.model import ExtractionError

    data = _form_bytes("株式会社ほしぞら医工", "c")
    growing, broken = tmp_path / "growing.xlsx", tmp_path / "broken.xlsx"
    growing.write_bytes(data[: len(data) // 2])
    broken.write_bytes(data[: len(data) // 2] + b"\0")
    kinds = []
    for path in (growing, broken):
        try:
            extract(path)
        except ExtractionError as exc:
            kinds.append(exc.kind)
    assert kinds == ["corrupt", "corrupt"]
    written = max(os.stat(p).st_ctime for p in (growing, broken))
    arrivals = check_arrivals([growing, broken], interval=0, rounds=1, quiet=0.5, sleep=lambda s: None,
                              clock=lambda: written)  # the check's clock stands still: both just written
    assert arrivals.stable == [growing, broken]

    def copy_goes_on(_seconds):
        with open(growing, "ab") as f:
            f.write(data[len(data) // 2:])

    arrivals.sleep = copy_goes_on
    assert arrivals.still_arriving(growing, "corrupt") is True
    arrivals.sleep = lambda s: None
    assert arrivals.still_arriving(broken, "corrupt") is False
    assert arrivals.still_arriving(broken, None) is False  # a good read of an unchanged file
    broken.write_bytes(data)
    assert arrivals.still_arriving(broken, None) is True  # rewritten after the check: not what was read


def test_disk_faults_become_one_japanese_sentence(tmp_path):
    import errno

    from pipeline.cli_errors import disk_error_message

    full = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out" / "answers.csv"))
    assert "空きが足りない" in disk_error_message(full, tmp_path / "out")
    assert "空きが足りない" in disk_error_message(sqlite3.OperationalError("database or disk is full"), tmp_path)
    ro = OSError(errno.EROFS, "Read-only file system", str(tmp_path / ".mdsgap.lock"))
    assert "書き込みできない" in disk_error_message(ro, tmp_path)
    wrapped = RuntimeError("書き出しに失敗")
    wrapped.__cause__ = OSError(errno.EDQUOT, "Disk quota exceeded")
    assert "空きが足りない" in disk_error_message(wrapped, tmp_path)
    assert disk_error_message(ValueError("x"), tmp_path) is None


def test_progress_shows_file_names_inert():
    from pipeline.cli import _ProgressDisplay

    class Bar:
        def __init__(self):
            self.descriptions = []

        def add_task(self, description, total=None):
            return 0

        def update(self, task, **kw):
            if "description" in kw:
                self.descriptions.append(kw["description"])

    bar = Bar()
    show = _ProgressDisplay(bar)
    show("file_done", {"name": "株式会社\u202e逆\u200b\x1b[2J\x07[bold]名[/bold].xlsx", "ok": True})
    show("stage", {"text": "段階\x1b]0;title\x07"})
    shown = "".join(bar.descriptions)
    assert not any(ch in shown for ch in ("\u202e", "\u200b", "\x1b", "\x07"))
    assert "⟨U+202E⟩" in shown and "⟨U+200B⟩" in shown and "\\[bold]" in shown


def _orphan_server(tmp_path: Path) -> int:
    """A process whose command line is Prefect's server and whose parent has exited (reparented)."""
    pid_file = tmp_path / "orphan.pid"
    code = ("import subprocess, sys; p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', "
            "'prefect.server.api.server:create_app'], start_new_session=True); "
            f"open({str(pid_file)!r}, 'w').write(str(p.pid))")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    return int(pid_file.read_text())


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rindex(b")") + 2:][:1] != b"Z"


def _gone_within(pids, limit: float = 60.0) -> list[int]:
    """Poll (bounded, not a timing assertion) until the processes are gone; the ones still alive."""
    deadline = time.monotonic() + limit
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_next_run_stops_the_server_a_killed_run_left_behind(tmp_path):
    from pipeline.config import LOCK_NAME
    from pipeline.lock import run_lock

    orphan = _orphan_server(tmp_path)
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        (tmp_path / LOCK_NAME).write_text(f"pid=999999999\nserver_pid={orphan}\n")
        with run_lock(tmp_path):
            pass
        assert _gone_within([orphan]) == []
        # a recorded pid that is not Prefect's server (a recycled pid) is never touched
        (tmp_path / LOCK_NAME).write_text(f"pid=999999999\nserver_pid={bystander.pid}\n")
        with run_lock(tmp_path):
            pass
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()
        if _alive(orphan):
            os.kill(orphan, signal.SIGKILL)


def test_a_second_run_lock_in_the_same_process_is_refused_unless_handed_over(tmp_path):
    from pipeline.lock import RunLockedError, run_lock

    with run_lock(tmp_path, hand_over=True):
        with run_lock(tmp_path):  # the flow inside `mdsgap run`
            pass
    with run_lock(tmp_path):
        with pytest.raises(RunLockedError):
            with run_lock(tmp_path):
                pass


# ----------------------------------------------------------------------------------- integration part

def _one_japanese_line(text: str) -> bool:
    lines = [line for line in text.splitlines() if line.strip()]
    return (len(lines) == 1 and "Traceback" not in text and "Error" not in text and "Exception" not in text
            and any("\u3040" <= ch <= "\u9fff" for ch in lines[0]))


def _session(sid: int) -> list[int]:
    """Live processes of a session (the run was started in its own; its children stay in it)."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2:].split()
        if int(fields[3]) == sid and fields[0] != b"Z":
            found.append(int(d.name))
    return found


def _mount_tmpfs(path: Path, size: str) -> bool:
    if os.geteuid() != 0:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


class Run:
    def __init__(self, base: Path, inbox: Path, out: Path, env: dict, label: str, *extra: str):
        self.stdout, self.stderr = base / f"{label}.out", base / f"{label}.err"
        self.proc = subprocess.Popen(
            [str(MDSGAP), "run", "--inbox", str(inbox), "--out", str(out), "--as-of", "2026-11-02", *extra],
            stdout=open(self.stdout, "wb"), stderr=open(self.stderr, "wb"), env=env, cwd=base,
            start_new_session=True)

    def wait(self) -> int:
        return self.proc.wait(timeout=900)

    def texts(self) -> tuple[str, str]:
        return (self.stdout.read_text(encoding="utf-8", errors="replace"),
                self.stderr.read_text(encoding="utf-8", errors="replace"))


def _lock_text(out: Path) -> str:
    try:
        return (out / ".mdsgap.lock").read_text()
    except OSError:
        return ""


def _documents(out: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{out / 'mdsgap.sqlite'}?mode=ro", uri=True, timeout=0.2)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return -1


def _stop_when(run: Run, condition, signum: int) -> bool:
    """Send `signum` to the run (its main process only, as `kill` does) once `condition()` holds."""
    deadline = time.monotonic() + 900
    while run.proc.poll() is None and time.monotonic() < deadline:
        if condition():
            os.kill(run.proc.pid, signum)
            return True
        time.sleep(0.02)
    return False


def _review(out: Path, count: int) -> list[str]:
    return fill_review(out / "risk_register.xlsx", count, REVIEW)


def _edits(out: Path) -> dict[str, dict]:
    ws = openpyxl.load_workbook(out / "risk_register.xlsx").worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    head = list(rows[0])
    return {r[head.index("risk_id")]: {c: r[head.index(c)] for c in REVIEW} for r in rows[1:]}


class PausingCopy(threading.Thread):
    """A real XLSX copied over a slow share: a small chunk, then a pause of `pause` s, until `finish()`."""

    def __init__(self, path: Path, data: bytes, pause: float = 2.5, chunk: int = 16):
        super().__init__(daemon=True)
        self.path, self.data, self.pause, self.chunk = path, data, pause, chunk
        self.started, self.stop = threading.Event(), threading.Event()

    def run(self):
        written = 0
        with open(self.path, "wb") as f:
            while not self.stop.is_set() and written < len(self.data) - self.chunk:
                f.write(self.data[written: written + self.chunk])
                f.flush()
                written += self.chunk
                self.started.set()
                self.stop.wait(self.pause)
            f.write(self.data[written:])

    def finish(self):
        self.stop.set()
        self.join()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    base = tmp_path_factory.mktemp("operator")
    inbox, out = base / "inbox", base / "out"
    inbox.mkdir()
    out.mkdir()
    mounted = _mount_tmpfs(out, "6m")
    env = subprocess_env(base / "prefect", COLUMNS="200")
    rec: dict = {"base": base, "inbox": inbox, "out": out, "mounted": mounted, "names": [], "runs": {}}
    try:
        _play(rec, base, inbox, out, env, mounted)
        yield rec
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(out)], capture_output=True)


def _play(rec, base, inbox, out, env, mounted):
    names = rec["names"]
    # 1. A normal run: good forms and one broken file; the reviewer then edits the register.
    names += _drop(inbox, ["一次_開示書A.xlsx", "一次_開示書B.xlsx"], "株式会社ほしぞら医工")
    (inbox / "一次_壊れた.xlsx").write_bytes(_form_bytes("株式会社ほしぞら医工", "broken")[:1500])
    names.append("一次_壊れた.xlsx")
    first = Run(base, inbox, out, env, "first")
    rec["runs"]["first"] = (first.wait(), *first.texts())
    assert rec["runs"]["first"][0] == 0, rec["runs"]["first"]
    rec["edited"] = _review(out, 2)

    # 2. Two runs at the same time on the same output folder.
    names += _drop(inbox, ["二次_開示書.xlsx"], "有限会社こもれび計測")
    pair = [Run(base, inbox, out, env, f"pair{i}") for i in range(2)]
    rec["runs"]["pair"] = [(r.wait(), *r.texts()) for r in pair]

    # 3. The output disk fills up.
    names += _drop(inbox, ["三次_開示書.xlsx"], "合同会社あさつゆ電子")
    if mounted:
        rec["register_before_full"] = (out / "risk_register.xlsx").read_bytes()
        filler = out / "filler.bin"
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        full = Run(base, inbox, out, env, "full")
        rec["runs"]["full"] = (full.wait(), *full.texts())
        rec["inbox_after_full"] = sorted(p.name for p in inbox.iterdir() if p.is_file())
        rec["register_after_full"] = (out / "risk_register.xlsx").read_bytes()
        filler.unlink()

    # 4. The output disk is read-only.
    if mounted:
        subprocess.run(["mount", "-o", "remount,ro", str(out)], check=True)
        try:
            ro = Run(base, inbox, out, env, "readonly")
            rec["runs"]["readonly"] = (ro.wait(), *ro.texts())
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(out)], check=True)
        rec["inbox_after_readonly"] = sorted(p.name for p in inbox.iterdir() if p.is_file())

    # 5. Runs stopped: SIGKILL and SIGINT once Prefect's server is up, SIGTERM during the extraction.
    names += _drop(inbox, [f"四次_開示書{i}.xlsx" for i in range(6)], "株式会社みなと検査機器")
    rec["kills"] = []
    for label, signum, when in (("kill-server", signal.SIGKILL, "server"), ("term-extract", signal.SIGTERM, "extract"),
                                ("int-server", signal.SIGINT, "server")):
        before = _documents(out)
        run = Run(base, inbox, out, env, label)
        if when == "server":
            # this run's own record (the lock file keeps the last run's until this one takes the lock)
            condition = lambda run=run: _lock_text(out).startswith(f"pid={run.proc.pid}\nserver_pid=")  # noqa: E731
        else:
            condition = lambda before=before: _documents(out) > before  # noqa: E731
        sent = _stop_when(run, condition, signum)
        rc = run.wait()
        left = _gone_within(_session(run.proc.pid))
        rec["kills"].append((label, signum, sent, rc, left, *run.texts()))

    # 6. A copy that pauses between chunks while a run goes on; then the copy ends and the next run reads it.
    quiet = base / "quiet.yaml"
    quiet.write_text("stable_quiet: 10\n", encoding="utf-8")
    copying = PausingCopy(inbox / "五次_コピー中.xlsx", _form_bytes("株式会社しおさい医療", "slow"))
    names.append("五次_コピー中.xlsx")
    copying.start()
    copying.started.wait(60)
    slow = Run(base, inbox, out, env, "slow", "--config", str(quiet))
    rec["runs"]["slow"] = (slow.wait(), *slow.texts())
    rec["slow_places"] = _places(inbox, "五次_コピー中.xlsx")
    copying.finish()

    last = Run(base, inbox, out, env, "last")
    rec["runs"]["last"] = (last.wait(), *last.texts())


def _places(inbox: Path, name: str) -> list[str]:
    found = ["inbox"] if (inbox / name).exists() else []
    return found + [d for d in ("processed", "failed") if (inbox / d / name).exists()]


def test_two_runs_at_once_one_works_the_other_says_so(scenario):
    (rc_a, out_a, err_a), (rc_b, out_b, err_b) = scenario["runs"]["pair"]
    assert sorted([rc_a, rc_b]) == [0, 2], scenario["runs"]["pair"]
    refused = err_a if rc_a == 2 else err_b
    assert _one_japanese_line(refused) and "別の mdsgap の処理が実行中です" in refused, refused
    done = err_b if rc_a == 2 else err_a
    assert "Traceback" not in done, done


def test_full_output_disk(scenario):
    if not scenario["mounted"]:
        pytest.skip("a small tmpfs needs root")
    rc, stdout, stderr = scenario["runs"]["full"]
    assert rc != 0 and _one_japanese_line(stderr) and "ディスクの空きが足りない" in stderr, (rc, stdout, stderr)
    assert "三次_開示書.xlsx" in scenario["inbox_after_full"]  # not moved: its results could not be written
    assert scenario["register_after_full"] == scenario["register_before_full"]  # the reviewer's file intact


def test_read_only_output_disk(scenario):
    if not scenario["mounted"]:
        pytest.skip("a read-only mount needs root")
    rc, stdout, stderr = scenario["runs"]["readonly"]
    assert rc != 0 and _one_japanese_line(stderr) and "書き込みできない" in stderr, (rc, stdout, stderr)
    assert "三次_開示書.xlsx" in scenario["inbox_after_readonly"]


def test_stopped_runs_leave_no_process_and_say_so_in_one_line(scenario):
    for label, signum, sent, rc, left, stdout, stderr in scenario["kills"]:
        assert left == [], (label, left)  # Prefect's server and every other child died with the run
        if not sent:
            continue  # the run ended before the point was reached: nothing to stop
        if signum == signal.SIGKILL:
            assert rc == -signal.SIGKILL, (label, rc)
            continue
        if rc == 0:
            continue  # the signal came as the run was ending
        assert rc == 128 + signum, (label, rc, stderr)
        assert _one_japanese_line(stderr) and "中断しました" in stderr, (label, stderr)
        assert "Traceback" not in stdout, (label, stdout)


def test_a_copy_that_pauses_is_never_read_half_written(scenario):
    rc, stdout, stderr = scenario["runs"]["slow"]
    assert rc == 0, (stdout, stderr)
    assert scenario["slow_places"] == ["inbox"], scenario["slow_places"]
    assert "まだ書き込み中のため次回に処理します" in stdout and "五次_コピー中.xlsx" in stdout, stdout
    assert _places(scenario["inbox"], "五次_コピー中.xlsx") == ["processed"]  # the next run read it


def test_every_file_accounted_for_exactly_once_and_edits_kept(scenario):
    rc, stdout, stderr = scenario["runs"]["last"]
    assert rc == 0, (stdout, stderr)
    inbox, out = scenario["inbox"], scenario["out"]
    conn = sqlite3.connect(out / "mdsgap.sqlite")
    stored = {row[0] for row in conn.execute("SELECT sha256 FROM documents")}
    conn.close()
    for name in scenario["names"]:
        places = _places(inbox, name)
        assert len(places) == 1, (name, places)
        if places == ["processed"]:
            assert file_sha256(inbox / "processed" / name) in stored, name
        elif places == ["failed"]:
            assert (inbox / "failed" / f"{name}.error.txt").is_file(), name
    assert _places(inbox, "一次_壊れた.xlsx") == ["failed"]
    assert [p for p in (inbox / "processed").iterdir()] and not [
        p for p in inbox.iterdir() if p.is_file()]  # nothing left behind
    edits = _edits(out)
    for rid in scenario["edited"]:
        assert edits[rid] == REVIEW, rid
