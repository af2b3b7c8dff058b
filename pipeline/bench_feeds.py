"""Benchmark of the vulnerability matching (issue 15): an NVD CVE API 2.0 JSON of 20,000 entries against a
500-device ledger, both written to files and read by the real readers, then matched (rules.vuln_match).

`python -m pipeline.bench_feeds` (also the first part of `make bench`). The match is timed at 5,000, 10,000
and 20,000 entries: the time grows with the entries (linear), not with entries × devices. The data are
generated with a fixed seed: fictional makers, products and CVE ids (year 2099).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import tempfile
import time
from pathlib import Path

OS_CHOICES = [("Windows 10 IoT Enterprise LTSC 2021", "windows_10_21h2"),
              ("Windows Server 2019", "windows_server_2019"),
              ("RHEL 8.6", "enterprise_linux"), ("Ubuntu 22.04 LTS", "ubuntu_linux"), ("不明", "")]
OS_VENDOR = {"windows_10_21h2": "microsoft", "windows_server_2019": "microsoft", "enterprise_linux": "redhat",
             "ubuntu_linux": "canonical"}


def _products(rng: random.Random, makers: int = 200, per_maker: int = 10) -> list[tuple[str, str]]:
    return [(f"bench_maker_{m:03d}", f"device_line_{m:03d}_{p:02d}") for m in range(makers) for p in range(per_maker)]


def write_nvd(path: Path, n: int, rng: random.Random, products) -> Path:
    vulns = []
    for i in range(n):
        if rng.random() < 0.01:  # an OS entry
            product = rng.choice([p for _, p in OS_CHOICES if p])
            criteria = f"cpe:2.3:o:{OS_VENDOR[product]}:{product}:*:*:*:*:*:*:*:*"
        else:
            vendor, product = rng.choice(products)
            criteria = f"cpe:2.3:a:{vendor}:{product}:*:*:*:*:*:*:*:*"
        end = f"{rng.randint(1, 9)}.{rng.randint(0, 9)}"
        match = {"vulnerable": True, "criteria": criteria, "versionEndExcluding": end}
        vulns.append({"cve": {"id": f"CVE-2099-{100000 + i}", "published": "2099-01-01T00:00:00.000",
                              "descriptions": [{"lang": "en", "value": f"Synthetic flaw {i}."}],
                              "metrics": {"cvssMetricV31": [{"type": "Primary", "cvssData": {
                                  "version": "3.1", "baseScore": round(rng.uniform(2.0, 10.0), 1)}}]},
                              "configurations": [{"nodes": [{"operator": "OR", "cpeMatch": [match]}]}]}})
    path.write_text(json.dumps({"format": "NVD_CVE", "version": "2.0", "totalResults": n, "vulnerabilities": vulns},
                               separators=(",", ":")), encoding="utf-8")
    return path


def write_ledger(path: Path, n: int, rng: random.Random, products) -> Path:
    lines = ["機器名,設置場所,メーカー,製品名,型番,バージョン,OS"]
    for i in range(n):
        vendor, product = rng.choice(products)
        os_raw = rng.choice(OS_CHOICES)[0]
        version = f"{rng.randint(1, 9)}.{rng.randint(0, 9)}" if rng.random() < 0.7 else ""
        lines.append(f"機器{i:04d},部署{i % 30:02d},{vendor.replace('_', ' ')},{product.replace('_', ' ')},"
                     f"M-{i:04d},{version},{os_raw}")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    return path


def bench_feeds(entries: int = 20_000, devices: int = 500) -> dict:
    from extractors import extract
    from rules.device_match import assess_devices
    from rules.vuln_match import assess_vulnerabilities

    rng = random.Random(15)
    products = _products(rng)
    as_of = dt.date(2026, 11, 27)
    with tempfile.TemporaryDirectory(prefix="mdsgap-bench-feeds-") as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        nvd_path = write_nvd(tmp / "nvd.json", entries, rng, products)
        ledger_path = write_ledger(tmp / "ledger.csv", devices, rng, products)
        write_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        feed = extract(nvd_path)
        ledger = extract(ledger_path)
        read_s = time.perf_counter() - t0
    assessments = assess_devices([ledger], [], as_of)
    result = {"entries": len(feed.vulnerabilities), "devices": len(ledger.devices), "write_s": write_s,
              "read_s": read_s, "match_s": {}}
    for n in sorted({max(1, entries // 4), max(1, entries // 2), entries}):
        part = type(feed)(source_file=feed.source_file, sha256=feed.sha256, family="vuln_feed",
                          vulnerabilities=feed.vulnerabilities[:n])
        t0 = time.perf_counter()
        found = assess_vulnerabilities(assessments, [part])
        result["match_s"][n] = time.perf_counter() - t0
        result.setdefault("matched", {})[n] = (sum(len(v.certain) for _, v in found.devices),
                                                sum(len(v.uncertain) for _, v in found.devices))
    return result


def report(r: dict) -> None:
    print(f"\n=== 脆弱性照合: NVD {r['entries']:,} 件 × 機器台帳 {r['devices']} 台 ===")
    print(f"ファイル作成 {r['write_s']:.2f}s  読み取り（JSON と CSV、実際の読取処理）{r['read_s']:.2f}s")
    for n, seconds in r["match_s"].items():
        certain, uncertain = r["matched"][n]
        print(f"  照合 {n:>6,} 件: {seconds:6.3f} s（1,000 件あたり {seconds / n * 1000:.3f} s）"
              f"  確実な一致 {certain} 件・要確認 {uncertain} 件")
    print(f"照合の総当たりを行わない（索引引き）ため、時間は件数にほぼ比例します（総当たりなら {r['entries'] * r['devices']:,} 回の比較）。")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="脆弱性情報と機器台帳の照合速度を測定します。")
    parser.add_argument("--entries", type=int, default=20_000, help="NVD の脆弱性件数（既定 20,000）")
    parser.add_argument("--devices", type=int, default=500, help="機器台帳の台数（既定 500）")
    args = parser.parse_args(argv)
    report(bench_feeds(args.entries, args.devices))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
