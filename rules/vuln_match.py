"""Vulnerability feeds matched to ledger devices and SBOM components, linearly, with the reason of every match.

The feed entries are indexed once (`FeedIndex`): by CPE vendor:product key (NVD configurations, JVN entries
with a CPE) and by product-name key (JVN entries without a CPE, and every CPE product for package names).
Each device (ledger maker + product / 型番, its OS) and each SBOM component (CPE, else purl, else name) is then
looked up by its keys: the cost is devices + components + entries, never devices × entries.

A match is certain only when the maker and the product agree (CPE, or a JVN entry naming both) and the version
is known to lie in the affected range (or the entry affects every version). Anything less — the version not
known (the ledger gives none, an OS build the ledger does not state, a JVN version text that cannot be read),
only the product or package name agreeing — is an uncertain match: a review item, never a finding. Every
match says which key matched and which version rule applied.

An SBOM belongs to the ledger devices of its vendor and product (the names compared as rules.device_match
does, the alias table included): those devices carry its components' vulnerabilities.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from extractors.model import Component, CpeMatch, VulnEntry
from extractors.model import Device, Document
from extractors.text import normalize_text
from rules.cpe import ANY, VersionRule, jvn_rule, name_key, parse_cpe, purl_name
from rules.grouping import vendor_key

VERSION_LABEL = re.compile(r"バージョン|ソフトウェア版|ファームウェア版|版数|(?<![a-z])ver(?:sion)?(?![a-z])|firmware")
# 「製品名 3.2.1」「製品名 Ver.3.2」: a version written after the product name in the same cell
PRODUCT_VERSION = re.compile(r"^(.*?\S)\s*(?:\bver\.?\s*|\bv)?(\d+(?:\.\d+)+[a-z0-9\-]*)$", re.I)
MIN_PARTIAL_PRODUCT, MIN_PARTIAL_VENDOR = 4, 3  # shortest key a partial name match may rest on
CVE_ID = re.compile(r"^CVE-\d{4}-\d{4,}$")


def primary_id(entry: VulnEntry) -> str:
    """The id a vulnerability is reported by: its CVE (a JVN entry's first related CVE), else the feed's id."""
    return next((i for i in [entry.vuln_id] + entry.related_ids if CVE_ID.match(i)), entry.vuln_id)


@dataclass(frozen=True)
class Target:
    entry: VulnEntry
    feed: Document
    rule: VersionRule | None  # None: the feed's version text could not be read
    how: str  # Japanese: what the feed names
    vendor_key: str


@dataclass
class VulnMatch:
    entry: VulnEntry
    feed: Document
    certain: bool
    reason: str  # Japanese: which key matched, which version rule
    sbom: Document | None = None  # the SBOM whose component matched (None: the device itself)

    @property
    def vuln_id(self) -> str:
        return primary_id(self.entry)

    @property
    def cvss(self) -> float | None:
        return self.entry.cvss

    def describe(self) -> str:
        score = f"CVSS v{self.entry.cvss_version} 基本値 {self.entry.cvss}" if self.entry.cvss is not None else "CVSS なし"
        ids = "・".join(dict.fromkeys([self.vuln_id] + [i for i in [self.entry.vuln_id] if i != self.vuln_id]))
        return f"{ids}（{score}、{Path(self.feed.source_file).name}）: {self.reason}"


def _nvd_rule(m: CpeMatch, version: str) -> VersionRule:
    return VersionRule(exact=version, start_including=m.version_start_including,
                       start_excluding=m.version_start_excluding, end_including=m.version_end_including,
                       end_excluding=m.version_end_excluding)


class FeedIndex:
    """Feed entries by CPE key and by product-name key, built once per run."""

    def __init__(self, feeds: list[Document]):
        self.by_cpe: dict[str, list[Target]] = {}
        self.by_name: dict[str, list[Target]] = {}  # JVN products named without a CPE
        self.by_product: dict[str, list[Target]] = {}  # every CPE product, for package names
        self.products_by_vendor: dict[str, set[str]] = {}  # CPE vendor key -> its product keys (partial names)
        self.entries = 0
        for feed in feeds:
            if feed.family != "vuln_feed":
                continue
            for entry in feed.vulnerabilities:
                self.entries += 1
                for m in entry.matches:
                    if m.vulnerable:
                        self._add(entry, feed, m)

    def _add(self, entry: VulnEntry, feed: Document, m: CpeMatch) -> None:
        cpe = parse_cpe(m.criteria)
        if cpe is None and not m.product_name:
            return
        if cpe is not None and entry.source == "jvn" and not cpe.version:
            rules = [jvn_rule(v) for v in m.versions] or [None]  # no version text: unknown
        elif cpe is not None:
            rules = [_nvd_rule(m, cpe.version)]
        else:
            rules = [jvn_rule(v) for v in m.versions] or [None]
        for rule in rules:
            if cpe is not None:
                t = Target(entry, feed, rule, f"CPE「{m.criteria}」", name_key(cpe.vendor))
                self.by_cpe.setdefault(cpe.key, []).append(t)
                self.by_product.setdefault(name_key(cpe.product), []).append(t)
                self.products_by_vendor.setdefault(t.vendor_key, set()).add(name_key(cpe.product))
            if m.product_name and name_key(m.product_name):  # JVN names the product as printed (often Japanese)
                who = f"（製造業者「{m.vendor_name}」）" if m.vendor_name else ""
                t = Target(entry, feed, rule, f"JVN の製品名「{m.product_name}」{who}", name_key(m.vendor_name))
                self.by_name.setdefault(name_key(m.product_name), []).append(t)

    @staticmethod
    def _verdict(t: Target, version: str, certain_names: bool, what: str) -> VulnMatch | None:
        found = t.rule.contains(version) if t.rule is not None else None
        if found is False:
            return None
        if t.rule is None:
            rule = "影響を受けるバージョンを読み取れない"
        else:
            rule = t.rule.describe()
        if found and version and not t.rule.empty:
            rule += f"、{what}のバージョン「{version}」が該当"
        elif found is None:
            rule += f"、{what}のバージョンが{'不明' if not version else f'「{version}」で比較できない'}（要確認）"
        return VulnMatch(t.entry, t.feed, bool(found) and certain_names, f"{t.how}と一致、{rule}")

    def lookup(self, vendor_keys: set[str], product_keys: set[str], version: str, what: str = "台帳",
               partial: bool = False) -> list[VulnMatch]:
        """Matches of one subject (a device, its OS, a component): maker and product keys, its version.
        `partial`: also names that only contain one another (a ledger's 「製品名 型番」, 「Foo Medical」 for a CPE
        vendor `foo`): uncertain matches, looked up among the maker's own products or the product's own makers."""
        found: list[VulnMatch] = []
        for vk in vendor_keys:
            for pk in product_keys:
                for t in self.by_cpe.get(f"{vk}:{pk}", ()):
                    if (m := self._verdict(t, version, True, what)) is not None:
                        found.append(m)
        for pk in product_keys:
            for t in self.by_name.get(pk, ()):
                if t.vendor_key and vendor_keys and t.vendor_key not in vendor_keys:
                    continue  # another maker's product of the same name
                m = self._verdict(t, version, bool(t.vendor_key and t.vendor_key in vendor_keys), what)
                if m is not None:
                    if not m.certain and (not t.vendor_key or not vendor_keys):
                        m.reason += "（製品名のみで照合、製造業者名は照合できない）"
                    found.append(m)
        if partial:
            found += self._partial(vendor_keys, product_keys, version, what, {id(m.entry) for m in found})
        return found

    def _partial(self, vendor_keys: set[str], product_keys: set[str], version: str, what: str, seen: set[int]
                 ) -> list[VulnMatch]:
        def near(a: str, b: str, least: int) -> bool:
            return a != b and min(len(a), len(b)) >= least and (a in b or b in a)

        found = []
        for vk in vendor_keys:
            for other in self.products_by_vendor.get(vk, ()):
                if other not in product_keys and any(near(pk, other, MIN_PARTIAL_PRODUCT) for pk in product_keys):
                    for t in self.by_cpe.get(f"{vk}:{other}", ()):
                        if id(t.entry) not in seen and (m := self._verdict(t, version, False, what)) is not None:
                            m.reason += "（製品名が部分一致）"
                            found.append(m)
        for pk in product_keys:
            for t in self.by_product.get(pk, ()):
                if (id(t.entry) not in seen and t.vendor_key not in vendor_keys
                        and any(near(vk, t.vendor_key, MIN_PARTIAL_VENDOR) for vk in vendor_keys)):
                    if (m := self._verdict(t, version, False, what)) is not None:
                        m.reason += "（製造業者名が部分一致）"
                        found.append(m)
        return found

    def lookup_product(self, product_key: str, version: str, what: str) -> list[VulnMatch]:
        """Matches by product or package name alone (a purl or a component without CPE): always uncertain."""
        found = []
        for t in self.by_product.get(product_key, ()):
            if (m := self._verdict(t, version, False, what)) is not None:
                m.reason += "（製品名・パッケージ名のみ一致、製造業者は未確認）"
                found.append(m)
        return found


# --- subjects -----------------------------------------------------------------------------------------------

# normalised OS (rules.os_eol.normalize_os) -> CPE vendor, products and the version to compare (None: the
# ledger's version is not the scheme NVD uses, e.g. a Windows build number: such matches stay uncertain)
_LTSC_RELEASE = {("LTSB", "2015"): "1507", ("LTSB", "2016"): "1607", ("LTSC", "2019"): "1809", ("LTSC", "2021"): "21h2",
                 ("LTSC", "2024"): "24h2"}


def os_subject(os_name: str, version: str) -> tuple[set[str], set[str], str] | None:
    v = version.casefold()
    if os_name in ("Windows 10", "Windows 11"):
        major = os_name.split()[1]
        return {"microsoft"}, {f"windows{major}", f"windows{major}{v}"} - {""}, ""
    if re.match(r"Windows 1[01] ", os_name) and ("LTSC" in os_name or "LTSB" in os_name):
        major, channel = os_name.split()[1], ("LTSB" if "LTSB" in os_name else "LTSC")
        release = _LTSC_RELEASE.get((channel, version), "")
        return {"microsoft"}, {f"windows{major}"} | ({f"windows{major}{release}"} if release else set()), ""
    if os_name == "Windows Server" and version:
        year, _, r2 = v.partition(" ")
        return {"microsoft"}, {f"windowsserver{year}", f"windowsserver{year}{r2}"}, r2
    if m := re.fullmatch(r"Windows (XP|Vista|7|8\.1)", os_name):
        return {"microsoft"}, {name_key(f"windows_{m.group(1)}")}, ""
    if os_name == "Windows Embedded Standard 7":
        return {"microsoft"}, {"windowsembeddedstandard7"}, ""
    if os_name == "RHEL":
        return {"redhat"}, {"enterpriselinux"}, version
    if os_name == "CentOS":
        return {"centos"}, {"centos"}, version
    if os_name == "Ubuntu":
        return {"canonical"}, {"ubuntulinux"}, version
    return None


def device_version(device: Device) -> str:
    """The software version a ledger row states in a column of its own (バージョン, Ver.), "" when none."""
    for label, value in device.extra.items():
        key = normalize_text(label).casefold()
        if VERSION_LABEL.search(key) and not re.search(r"(?<![a-z])os(?![a-z])", key) and value.strip():
            return value.strip()
    return ""


def product_and_version(text: str) -> tuple[str, str]:
    """(product, version) of a product cell that ends with a version number; (text, "") otherwise."""
    m = PRODUCT_VERSION.match(normalize_text(text or "").strip())
    return (m.group(1), m.group(2)) if m else (text, "")


def vendor_keys(name: str, aliases: dict[str, str]) -> set[str]:
    keys = {name_key(name)}
    alias = aliases.get(vendor_key(name))
    if alias:
        keys.add(name_key(alias))
    return keys - {""}


def maker_guessed(m: VulnMatch, device: Device) -> VulnMatch:
    """A maker match of a device whose ledger names no maker (its vendor is the 保守事業者): only a review item."""
    if not device.vendor_is_maintainer or not m.certain:
        return m
    return replace(m, certain=False, reason=f"{m.reason}（台帳に製造業者の記載がなく、保守事業者名で照合）")


def device_matches(index: FeedIndex, device: Device, os_name: str, os_version: str,
                   aliases: dict[str, str]) -> list[VulnMatch]:
    found = []
    products = {name_key(device.product), name_key(device.model)} - {""}
    version = device_version(device)
    product, written = product_and_version(device.product)
    if written and name_key(product):
        products.add(name_key(product))
        version = version or written
    vkeys = vendor_keys(device.vendor, aliases)
    if products:
        found += [maker_guessed(m, device) for m in index.lookup(vkeys, products, version, partial=True)]
    subject = os_subject(os_name, os_version) if os_name else None
    if subject is not None:
        for m in index.lookup(subject[0], subject[1], subject[2], "OS"):
            m.reason = f"OS「{device.os_raw}」: {m.reason}"
            found.append(m)
    return found


def component_matches(index: FeedIndex, c: Component) -> list[VulnMatch]:
    what = f"構成要素「{c.name}」"
    cpe = parse_cpe(c.cpe)
    if cpe is not None:
        version = cpe.version if cpe.version not in ANY else c.version
        return index.lookup({name_key(cpe.vendor)}, {name_key(cpe.product)}, version, what)
    namespace, name, version = purl_name(c.purl)
    version = version or c.version
    name = name or c.name
    # the maker a purl or a bare name stands for: the purl namespace, or the package itself as CPE names
    # projects without a company (`tinyparse_project:tinyparse`, `zlib:zlib`)
    makers = {name_key(namespace), name_key(name), name_key(f"{name}_project")} - {""}
    found = index.lookup(makers, {name_key(name)}, version, what)
    seen = {id(m.entry) for m in found}
    return found + [m for m in index.lookup_product(name_key(name), version, what) if id(m.entry) not in seen]


def merge(matches: list[VulnMatch]) -> tuple[list[VulnMatch], list[VulnMatch]]:
    """(certain, uncertain) with one match per vulnerability id: a certain one wins, then the higher CVSS."""
    best: dict[str, VulnMatch] = {}
    for m in matches:
        old = best.get(m.vuln_id)
        if old is None or (m.certain, m.cvss or -1) > (old.certain, old.cvss or -1):
            best[m.vuln_id] = m
    ordered = sorted(best.values(), key=lambda m: (-(m.cvss or 0), m.vuln_id))
    return [m for m in ordered if m.certain], [m for m in ordered if not m.certain]


@dataclass
class Vulns:
    """The vulnerabilities of one subject (a ledger device, or an SBOM no device was linked to)."""

    certain: list[VulnMatch] = field(default_factory=list)
    uncertain: list[VulnMatch] = field(default_factory=list)
    sboms: list[Document] = field(default_factory=list)  # SBOMs linked to the device

    @property
    def cve_ids(self) -> list[str]:
        return [m.vuln_id for m in self.certain]

    @property
    def max_cvss(self) -> float | None:
        return max((m.cvss for m in self.certain if m.cvss is not None), default=None)


@dataclass
class VulnAssessment:
    devices: list[tuple[object, Vulns]]  # (rules.device_match.DeviceAssessment, its vulnerabilities)
    sboms: list[tuple[Document, Vulns, list]]  # (SBOM, its components' vulnerabilities, linked DeviceAssessments)
    entries: int = 0  # feed entries indexed


def _sbom_matches(index: FeedIndex, sbom: Document) -> list[VulnMatch]:
    found = []
    for c in sbom.components:
        where = f"（{c.location.cell}）" if c.location and c.location.cell else ""
        for m in component_matches(index, c):
            m.sbom = sbom
            m.reason = (f"SBOM「{Path(sbom.source_file).name}」の構成要素「{' '.join(x for x in (c.name, c.version) if x)}」"
                        f"{where}: {m.reason}")
            found.append(m)
    return found


def assess_vulnerabilities(device_assessments: list, feeds: list[Document],
                           aliases: dict[str, str] | None = None) -> VulnAssessment:
    """Every device's and every SBOM's vulnerabilities (linear in devices + components + feed entries)."""
    from rules.device_match import _product_match

    aliases = {vendor_key(k): v for k, v in (aliases or {}).items() if vendor_key(k)}
    index = FeedIndex(feeds)
    sboms = [d for d in feeds if d.family == "sbom"]
    sbom_found = {id(s): _sbom_matches(index, s) for s in sboms}
    by_vendor: dict[str, list[Document]] = {}
    for s in sboms:
        if vendor_key(s.vendor) and s.product.strip():
            by_vendor.setdefault(vendor_key(s.vendor), []).append(s)
    linked: dict[int, list] = {id(s): [] for s in sboms}
    devices = []
    for a in device_assessments:
        keys = {vendor_key(a.device.vendor), vendor_key(aliases.get(vendor_key(a.device.vendor), ""))} - {""}
        mine = [s for k in keys for s in by_vendor.get(k, ()) if _product_match(a.device, s)]
        found = device_matches(index, a.device, a.support.os, a.support.version, aliases)
        for s in mine:
            linked[id(s)].append(a)
            found += [maker_guessed(m, a.device) for m in sbom_found[id(s)]]
        certain, uncertain = merge(found)
        devices.append((a, Vulns(certain, uncertain, mine)))
    result = VulnAssessment(devices, [], index.entries)
    for s in sboms:
        certain, uncertain = merge(sbom_found[id(s)])
        result.sboms.append((s, Vulns(certain, uncertain), linked[id(s)]))
    return result
