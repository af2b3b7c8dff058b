"""The negotiation memos of a one-shot run, written by a helper process while the run writes the reports.

The end of `mdsgap run` works on one core: the readers have stopped, and rules, register, reports and memos
follow one another. The memos (python-docx, about half of the report stage) need only the current documents
and the register, so a helper writes them meanwhile:

- `MemoHelper()` is made as soon as every file is read: a worker of its own (`pipeline.isolation`, forked from
  the forkserver, with the same memory limit and cleanup as a reading worker) starts and loads the memo code
  on the idle core while the rules and the register are worked out;
- `submit(out, documents, register_df)` hands it the memos' inputs, and the run writes the reports;
- `finish()`, once the run's reports are written: the run writes the memos the
  helper has not started yet, from the last vendor back, while the helper goes on from the first; each takes
  a vendor (`Claims`: a file made with O_EXCL in a private temporary folder) before writing its memo, so every
  memo is written once and both end at about the same time (the helper alone was the last ~0.5-1 s of a
  280-file run, with this process idle). It returns every memo path in vendor order;
- `collect()` (what `finish` ends with) gives the helper's memo paths, or None when the helper failed (it
  died, ran out of memory or time, or build_memos raised): the caller then writes the memos itself, as
  without a helper, so a failure of the helper costs time, never a memo.

A thread of the run waits for the helper: waiting on its pipe holds no lock the run needs.
"""
from __future__ import annotations

import hashlib
import logging
import os
import queue
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from pipeline.isolation import WorkerPool
from pipeline.scale import file_time_limit, hard_time_limit

log = logging.getLogger(__name__)


def load_memo_code() -> None:
    """Run in the helper before its job: the memo module and what it imports (python-docx)."""
    import pipeline.memo  # noqa: F401


@dataclass(frozen=True)
class Claims:
    """Which writer writes a vendor's memo: the first to make the vendor's file in `folder` (O_EXCL, atomic
    between processes)."""

    folder: Path

    def __call__(self, vendor_key: str) -> bool:
        name = hashlib.sha256(vendor_key.encode("utf-8")).hexdigest()
        try:
            os.close(os.open(self.folder / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            return False
        return True


def write_memos(out: Path, documents: list, register_df, claims: Claims | None = None) -> list[Path]:
    """Run in the helper: pipeline.memo.build_memos from the first vendor on (named here, so that the run's
    process need not import pipeline.memo and python-docx to send it)."""
    from pipeline.memo import build_memos

    return build_memos(out, documents, register_df, take=claims)


class MemoHelper:
    def __init__(self) -> None:
        self.pool = WorkerPool(1)
        self._jobs: queue.Queue = queue.Queue()
        self._answer: tuple[str, object] = ("error", "not submitted")
        self._claims: Claims | None = None
        self._job: tuple | None = None
        self._thread = threading.Thread(target=self._work, name="mdsgap-memo-helper")
        self._thread.start()

    def _work(self) -> None:
        limit = hard_time_limit(file_time_limit())
        ready = self.pool.call(load_memo_code, (), limit)
        job = self._jobs.get()
        if job is None:
            return
        self._answer = self.pool.call(write_memos, job, limit) if ready[0] == "ok" else ready

    def submit(self, out: Path, documents: list, register_df) -> None:
        self._claims = Claims(Path(tempfile.mkdtemp(prefix="mdsgap-memos-")))
        self._job = (Path(out), documents, register_df)
        self._jobs.put((*self._job, self._claims))

    def finish(self) -> list[Path] | None:
        """This process's share of the submitted memos (those the helper has not taken, from the last vendor
        back), then the helper's: every memo path in vendor order, or None when the helper failed and the caller
        must write the memos itself (its own share is written again then: the same files)."""
        from pipeline.memo import build_memos

        own = build_memos(*self._job, take=self._claims, from_end=True)
        helper = self.collect()
        return None if helper is None else helper + own[::-1]

    def collect(self) -> list[Path] | None:
        """The helper's memo paths, or None when the caller must write them itself."""
        self._thread.join()
        self._forget_claims()
        status, value = self._answer
        if status == "ok":
            return value
        log.info("the memo helper did not write the memos (%s: %s): written by the run itself", status, value)
        return None

    def close(self) -> None:
        """End the helper whether or not it had a job (a run stopped or without reports)."""
        self._jobs.put(None)
        self.pool.shutdown()
        self._thread.join(timeout=5)
        self._forget_claims()

    def _forget_claims(self) -> None:
        if self._claims is not None:
            shutil.rmtree(self._claims.folder, ignore_errors=True)
