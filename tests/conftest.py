"""Shared fixtures: the sample inbox (built once per session) and Prefect's test harness."""
from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("PREFECT_HOME", str(ROOT / ".prefect"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from extractors.model import Document, Item, Location  # noqa: E402

# CI is deterministic (Hypothesis profile "ci" unless HYPOTHESIS_PROFILE=fuzz): see tests/fuzzing.py.
import tests.fuzzing  # noqa: E402,F401


def _migrated_prefect_database() -> Path:
    """A Prefect database already migrated to the installed version's schema, made once per machine and
    version under a file lock. Migrating a new database costs each fresh test PREFECT_HOME ~8 s of CPU; a
    hospital's mdsgap keeps its PREFECT_HOME and pays it once."""
    from importlib.metadata import version

    folder = Path(tempfile.gettempdir()) / f"mdsgap-test-prefect-{version('prefect')}"
    folder.mkdir(exist_ok=True)
    database = folder / "prefect.db"
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not database.exists():
            env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
            work = folder / "home"
            shutil.rmtree(work, ignore_errors=True)
            env.update(PREFECT_HOME=str(work), PREFECT_SERVER_ANALYTICS_ENABLED="false")
            subprocess.run([sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"], env=env,
                           check=True, capture_output=True, timeout=600)
            os.replace(work / "prefect.db", database)
    return database


def subprocess_env(prefect_home: Path, **extra: str) -> dict[str, str]:
    """Environment for a `mdsgap` subprocess: its own embedded Prefect, never a server URL this test process
    happened to point at (a harness or a test server that may be gone by then). A new PREFECT_HOME starts
    with a copy of an already migrated database."""
    if not (prefect_home / "prefect.db").exists():
        prefect_home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_migrated_prefect_database(), prefect_home / "prefect.db")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(prefect_home), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="90", PREFECT_LOGGING_LEVEL="WARNING", **extra)
    return env


@pytest.fixture(scope="session")
def sample_inbox(tmp_path_factory) -> Path:
    """The project's sample vendor files, built once by `python -m samples.build --out <tmp>`; with
    pytest-xdist (`make test` runs two workers) the first worker builds them and the other waits for it
    under a file lock in the run's shared temporary folder. Tests copy from it and never change it."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the workers' folders sit side by side in the run's folder
    out, done = shared / "shared-samples" / "inbox", shared / "shared-samples" / "built"
    out.parent.mkdir(exist_ok=True)
    with open(shared / "shared-samples.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            proc = subprocess.run([sys.executable, "-m", "samples.build", "--out", str(out)], cwd=ROOT,
                                  capture_output=True, text=True, timeout=600)
            assert proc.returncode == 0, proc.stderr[-3000:]
            done.touch()
    return out


@pytest.fixture(autouse=True)
def _run_log_closed_after_each_test():
    """A flow run's log file (pipeline.runlog) stays open after the flow for Prefect's closing lines; it is
    closed after each test so that the next test's records never land in it."""
    yield
    from pipeline import runlog

    runlog.stop_run_log()


@pytest.fixture(scope="session")
def prefect_harness():
    """Prefect's temporary server and database, started once for the integration tests that need it."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


def free_port() -> int:
    """A TCP port on loopback nobody listens on now (for a test server)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_document(vendor: str = "株式会社テストメディカル", product: str = "電子カルテX", family: str = "mds",
                  created: dt.date | None = dt.date(2024, 4, 1), sha: str = "a" * 64,
                  items: list[Item] | None = None, source_file: str = "mds.xlsx") -> Document:
    """A Document built directly (as the extractor would return it) for store and register tests."""
    if items is None:
        items = [
            Item(item_id="4.1", number_printed="4.1", question="利用者認証を行っていますか。", answer="はい",
                 answer_status="answered", remark="", confidence=0.95,
                 location=Location(file=source_file, sheet="MDS", cell="C12", row=12), concept="user_auth"),
            Item(item_id="12.3.1", number_printed="1 2. 3. 1", question="リモート保守を行いますか。",
                 answer="いいえ", answer_status="answered", remark="=HYPERLINK(\"http://x\")",
                 confidence=0.6, needs_review=True, review_reason="備考が数式に見えます",
                 location=Location(file=source_file, page=3, row=40)),
        ]
    return Document(source_file=source_file, sha256=sha, family=family, form_id="jahis-mds-4.1",
                    form_version="GL5.2", vendor=vendor, product=product, product_version="1.0",
                    created=created, items=items, format="xlsx")


@pytest.fixture
def document_factory():
    return make_document


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI every system package is installed by the set-up: a skipped test there is a failure."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"CI ではテストをスキップできません: {report.longrepr}"
