"""CPE names, product keys and version rules for the vulnerability matching (rules/vuln_match.py).

- `parse_cpe(text)`: a CPE 2.3 formatted string (`cpe:2.3:a:vendor:product:version:…`) or a CPE 2.2 URI
  (`cpe:/a:vendor:product:version`) → `Cpe(part, vendor, product, version)`; escapes (`\\:`) and URI
  percent-encoding undone; "*" / "-" / "" versions are "any".
- `name_key(text)`: the key a vendor or product name is compared by: CPE underscores as spaces, then the
  register's `organization_key` (NFKC, case, company forms and spaces dropped), so `acme_medical` and
  「ACME Medical 株式会社」 give one key.
- `purl_name(purl)`: the package name of a purl (`pkg:npm/%40scope/name@1.2` → `name`).
- Versions are compared by their numeric and alphabetic runs (`2.10.1` > `2.9`, `1.0a` < `1.0b`); a version
  that has no digit cannot be compared (→ unknown, never a guess). `VersionRule` is one NVD range or one JVN
  version text (「3.1 およびそれ以前」「2.0 未満」「1.5 以降」「1.0 から 1.4 まで」「1.2」).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

from extractors.text import normalize_text, organization_key

ANY = ("", "*", "-")


@dataclass(frozen=True)
class Cpe:
    part: str
    vendor: str
    product: str
    version: str = ""

    @property
    def key(self) -> str:
        return f"{name_key(self.vendor)}:{name_key(self.product)}"


def _split23(text: str) -> list[str]:
    fields, cur, escaped = [], [], False
    for ch in text:
        if escaped:
            cur.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ":":
            fields.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    fields.append("".join(cur))
    return fields


def parse_cpe(text: str) -> Cpe | None:
    text = (text or "").strip()
    low = text.lower()
    if low.startswith("cpe:2.3:"):
        f = _split23(text)
        if len(f) >= 5:
            return Cpe(f[2].lower(), f[3], f[4], f[5] if len(f) > 5 and f[5] not in ANY else "")
    elif low.startswith("cpe:/"):
        f = [unquote(x) for x in text[5:].split(":")]
        if len(f) >= 3:
            return Cpe(f[0].lower(), f[1], f[2], f[3] if len(f) > 3 and f[3] not in ANY else "")
    return None


@lru_cache(maxsize=65536)
def name_key(text: str) -> str:
    return organization_key(re.sub(r"[_+]", " ", text or "")).replace("-", "")


def purl_name(purl: str) -> tuple[str, str, str]:
    """(namespace, name, version) of a package URL; ("", "", "") when it is not one."""
    m = re.match(r"^pkg:[A-Za-z0-9.+-]+/(?:(.+)/)?([^/@?#]+)(?:@([^?#]+))?", (purl or "").strip())
    if not m:
        return "", "", ""
    return unquote(m.group(1) or ""), unquote(m.group(2)), unquote(m.group(3) or "")


_RUN = re.compile(r"\d+|[a-z]+")


def version_key(text: str) -> tuple | None:
    t = normalize_text(text or "").lower().strip().lstrip("v")
    if not t or t in ANY or not re.search(r"\d", t):
        return None
    return tuple((0, int(r), "") if r.isdigit() else (1, 0, r) for r in _RUN.findall(t))


def compare(a: str, b: str) -> int | None:
    ka, kb = version_key(a), version_key(b)
    if ka is None or kb is None:
        return None
    n = max(len(ka), len(kb))
    ka += ((0, 0, ""),) * (n - len(ka))
    kb += ((0, 0, ""),) * (n - len(kb))
    return (ka > kb) - (ka < kb)


@dataclass(frozen=True)
class VersionRule:
    exact: str = ""
    start_including: str = ""
    start_excluding: str = ""
    end_including: str = ""
    end_excluding: str = ""
    text: str = ""  # as the feed wrote it (JVN), for the reason

    @property
    def empty(self) -> bool:
        return not (self.exact or self.start_including or self.start_excluding or self.end_including
                    or self.end_excluding)

    def describe(self) -> str:
        if self.text:
            return f"影響を受けるバージョン「{self.text}」"
        parts = []
        if self.exact:
            parts.append(f"バージョン {self.exact}")
        if self.start_including:
            parts.append(f"{self.start_including} 以上")
        if self.start_excluding:
            parts.append(f"{self.start_excluding} より後")
        if self.end_including:
            parts.append(f"{self.end_including} 以下")
        if self.end_excluding:
            parts.append(f"{self.end_excluding} 未満")
        return "影響を受けるバージョン " + "・".join(parts) if parts else "全バージョンが対象"

    def contains(self, version: str) -> bool | None:
        """True / False when the version is (not) in the range; None when it cannot be told."""
        if self.empty:
            return True
        if not version or version_key(version) is None:
            return None
        tests = ((self.exact, lambda c: c == 0), (self.start_including, lambda c: c >= 0),
                 (self.start_excluding, lambda c: c > 0), (self.end_including, lambda c: c <= 0),
                 (self.end_excluding, lambda c: c < 0))
        for bound, ok in tests:
            if bound:
                c = compare(version, bound)
                if c is None:
                    return None
                if not ok(c):
                    return False
        return True


_V = r"v?(\d[\w.\-]*(?:\s+[A-Za-z]{1,3}\d[\w.\-]*)?)"  # 「3.1.2」「v6 R4」
_ALL = ("-", "全バージョン", "全てのバージョン", "すべてのバージョン", "全版", "all versions")
_SUFFIX = r"(?:の(?:全ての|すべての)?(?:バージョン|版))?"
_BEFORE_INC = r"(?:およびそれ以前|及びそれ以前|ならびにそれ以前|以前|以下)"
_BEFORE_EXC = r"(?:未満|より前|より以前)"
_AFTER_INC = r"(?:およびそれ以降|及びそれ以降|以降|以上)"


def jvn_rule(text: str) -> VersionRule | None:
    """A JVN VersionNumber text as a rule; None when the text is not one we can read (→ version unknown)."""
    raw = normalize_text(text or "").strip()
    t = re.sub(r"^(?:バージョン|ver\.?|version)\s*", "", raw, flags=re.I).strip()
    if not t:
        return VersionRule()
    if t.casefold() in _ALL:
        return VersionRule(text=raw)
    if m := re.fullmatch(_V + r"\s*(?:から|～|~|-|〜)\s*" + _V + r"\s*(?:まで)?" + _SUFFIX, t):
        return VersionRule(start_including=m.group(1), end_including=m.group(2), text=raw)
    if m := re.fullmatch(_V + r"\s*以上\s*" + _V + r"\s*(未満|以下)" + _SUFFIX, t):
        end = {"未満": "end_excluding", "以下": "end_including"}[m.group(3)]
        return VersionRule(start_including=m.group(1), **{end: m.group(2)}, text=raw)
    if m := re.fullmatch(_V + r"\s*" + _BEFORE_INC + _SUFFIX, t):
        return VersionRule(end_including=m.group(1), text=raw)
    if m := re.fullmatch(_V + r"\s*" + _BEFORE_EXC + _SUFFIX, t):
        return VersionRule(end_excluding=m.group(1), text=raw)
    if m := re.fullmatch(_V + r"\s*" + _AFTER_INC + _SUFFIX, t):
        return VersionRule(start_including=m.group(1), text=raw)
    if m := re.fullmatch(r"v?(\d+)\.[x*]" + _SUFFIX, t, flags=re.I):
        return VersionRule(start_including=m.group(1), end_excluding=str(int(m.group(1)) + 1), text=raw)
    if m := re.fullmatch(_V, t):
        return VersionRule(exact=m.group(1), text=raw)
    return None
