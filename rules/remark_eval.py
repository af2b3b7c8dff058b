"""Precision and recall of the remark classes on the labelled corpus (tests/data/remark_corpus.yaml).

    python -m rules.remark_eval [corpus.yaml] [--errors]

A class counts for a remark the way a rule sees it: a class that a catalogue rule blocks with
`exclude_classes` in the same sentence (encryption_optional next to 常に / 必ず, aspirational next to a
negation) does not count, so the table measures what the rules would report.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from extractors.yamlfile import load_yaml
from rules.remarks import analyze

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "remark_corpus.yaml"
CATALOG_DIR = Path(__file__).parent / "catalog"

# The classes rules act on (rules/catalog/*.yaml); the others are building blocks.
EVAL_CLASSES = ("option", "duty_shift", "contradiction", "limitation", "plan", "on_request", "aspirational",
                "always_on", "encryption_optional")


def catalog_exclusions() -> dict[str, set[str]]:
    """class -> the classes that block it in the same sentence (the most permissive rule wins)."""
    found: dict[str, list[set[str]]] = {}
    for path in sorted(CATALOG_DIR.glob("*.yaml")):
        for rule in (load_yaml(path) or {}).get("rules", []):
            cond = rule.get("condition") or {}
            if cond.get("check") not in ("remark", "comment_remark"):
                continue
            for cls in cond.get("classes") or []:
                found.setdefault(cls, []).append(set(cond.get("exclude_classes") or []))
    return {cls: set.intersection(*sets) for cls, sets in found.items()}


def effective_classes(remark: str, exclusions: dict[str, set[str]] | None = None) -> set[str]:
    exclusions = catalog_exclusions() if exclusions is None else exclusions
    by_sentence: dict[str, set[str]] = {}
    for s in analyze(remark):
        by_sentence.setdefault(s.sentence, set()).add(s.cls)
    out: set[str] = set()
    for classes in by_sentence.values():
        out |= {c for c in classes if c in EVAL_CLASSES and not (exclusions.get(c, set()) & classes)}
    return out


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (kind, text)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def load_corpus(path: Path = CORPUS) -> list[dict]:
    return load_yaml(path)["sentences"]


def evaluate(entries: list[dict]) -> tuple[dict[str, Score], int]:
    """Per-class scores and the number of compliant remarks (no class expected) that got any class."""
    exclusions = catalog_exclusions()
    scores = {c: Score() for c in EVAL_CLASSES}
    false_alarms = 0
    for entry in entries:
        expected = set(entry.get("classes") or [])
        got = effective_classes(entry["text"], exclusions)
        if not expected and got:
            false_alarms += 1
        for cls in EVAL_CLASSES:
            if cls in expected and cls in got:
                scores[cls].tp += 1
            elif cls in got:
                scores[cls].fp += 1
                scores[cls].errors.append(("FP", entry["text"]))
            elif cls in expected:
                scores[cls].fn += 1
                scores[cls].errors.append(("FN", entry["text"]))
    return scores, false_alarms


def table(scores: dict[str, Score]) -> str:
    lines = [f"{'class':<22}{'TP':>5}{'FP':>5}{'FN':>5}{'P':>8}{'R':>8}"]
    for cls, s in scores.items():
        lines.append(f"{cls:<22}{s.tp:>5}{s.fp:>5}{s.fn:>5}{s.precision:>8.3f}{s.recall:>8.3f}")
    tp, fp, fn = (sum(getattr(s, k) for s in scores.values()) for k in ("tp", "fp", "fn"))
    micro = Score(tp, fp, fn)
    lines.append(f"{'all (micro)':<22}{tp:>5}{fp:>5}{fn:>5}{micro.precision:>8.3f}{micro.recall:>8.3f}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    entries = load_corpus(Path(args[0]) if args else CORPUS)
    scores, false_alarms = evaluate(entries)
    compliant = sum(1 for e in entries if not e.get("classes"))
    print(f"{len(entries)} remarks, {compliant} compliant (no class expected)")
    print(table(scores))
    print(f"compliant remarks with any class: {false_alarms}/{compliant}")
    if "--errors" in argv:
        for cls, s in scores.items():
            for kind, text in s.errors:
                print(f"{kind} {cls:<20} {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
