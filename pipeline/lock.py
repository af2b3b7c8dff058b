"""One run at a time per output folder: an fcntl lock on `<out>/.mdsgap.lock`."""
from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path

from pipeline.config import LOCK_NAME


class RunLockedError(RuntimeError):
    """Another mdsgap run holds the output folder. `message` is Japanese."""

    def __init__(self, out: Path):
        self.message = (f"別の mdsgap の処理が実行中です（{Path(out) / LOCK_NAME}）。"
                        "終了してから再実行してください。")
        super().__init__(self.message)


@contextmanager
def run_lock(out: Path, wait: float = 0.0, poll: float = 0.5):
    """Hold the output folder's lock; wait up to `wait` seconds for another run, then raise RunLockedError."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RunLockedError(out) from None
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
