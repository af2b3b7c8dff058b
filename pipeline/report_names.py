"""Safe output file names from vendor text, and writes that can never leave the output folder."""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path

from pipeline.safe_io import neutral_text, user_file_mode

_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.IGNORECASE)
MAX_PART_BYTES = 90  # per part; "<vendor>__<product>.html" stays far below the 255-byte name limit


def _truncate_utf8(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", errors="ignore")


def safe_name(text: str, fallback: str = "名称なし", max_bytes: int = MAX_PART_BYTES) -> str:
    """One file-name part from vendor text: no path separators, no '..', no control characters.

    「株式会社 ＡＢＣ／メディカル」 → 「株式会社_ABC_メディカル」. Long names are cut (UTF-8 bytes) and get a
    short hash of the full text so two long names that share a prefix do not collide.
    """
    raw = str(text or "")
    t = unicodedata.normalize("NFKC", neutral_text(raw, visible=False))
    t = _FORBIDDEN.sub("_", t)
    t = re.sub(r"\.{2,}", "_", t)
    t = re.sub(r"\s+", "_", t)
    t = re.sub(r"_+", "_", t).strip("._ -")
    if not t:
        t = fallback
    if _WINDOWS_RESERVED.match(t):
        t = "_" + t
    if len(t.encode("utf-8")) > max_bytes:
        digest = hashlib.sha1(raw.encode("utf-8")).hexdigest()[:8]
        t = _truncate_utf8(t, max_bytes - 9).rstrip("._ -") + "_" + digest
    return t


def unique_name(base: str, key: str, used: set[str]) -> str:
    """`base` unless already used (case-insensitively, for Windows/macOS); then `base_<hash of key>`."""
    name = base
    if name.casefold() in used:
        name = f"{base}_{hashlib.sha1(key.encode('utf-8')).hexdigest()[:8]}"
    n = 2
    while name.casefold() in used:
        name = f"{base}_{n}"
        n += 1
    used.add(name.casefold())
    return name


def inside(out_dir: Path, path: Path) -> Path:
    """`path` resolved, after checking it lies inside `out_dir` (symlinks followed). Raises ValueError."""
    root = Path(out_dir).resolve()
    target = Path(path).resolve()
    if target != root and not target.is_relative_to(root):
        raise ValueError(f"出力先フォルダの外への書き込みを拒否しました: {path}")
    return target


def write_inside(out_dir: Path, path: Path, data: bytes | str) -> Path:
    """Atomic write of `data` to `path`, refusing any path outside `out_dir`."""
    target = inside(out_dir, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    inside(out_dir, target.parent)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.chmod(tmp, user_file_mode())  # mkstemp creates 0600; reports and memos are for colleagues too
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
