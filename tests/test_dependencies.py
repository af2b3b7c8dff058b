"""Dependencies that earn their place: what pyproject.toml declares is what the code imports.

Every third-party module imported by the run path (extractors/, rules/, pipeline/) belongs to a distribution
declared in `[project] dependencies` (or in a run-time extra, for the code that only runs with it); every
declared run dependency is imported somewhere in the run path, except the few pure plugins listed below with
the reason they are needed. The sample builder (samples/) and the tests may also use the `samples` and
`test` extras. `samples/` is not part of the installed package, and requirements.lock pins every declared
distribution at the version pyproject asks for.

The import → distribution map comes from the installed environment (importlib.metadata), so a module that
is imported but installed only as someone else's dependency is caught.
"""
from __future__ import annotations

import ast
import fnmatch
import re
import sys
import tomllib
from collections import defaultdict
from functools import lru_cache
from importlib.metadata import packages_distributions as _packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN_PATH = ("extractors", "rules", "pipeline")
FIRST_PARTY = {"extractors", "rules", "pipeline", "samples", "tests"}

# Declared but never imported by name: each is used through another package. {distribution: reason}
PLUGINS = {
    "pyarrow": "pandas.DataFrame.to_parquet's engine (answers.parquet, risk_register.parquet)",
    "sudachipy": "the tokenizer of spacy.blank('ja'); spacy.lang.ja imports it (rules/remarks.py)",
    "sudachidict-core": "SudachiPy's system dictionary, which SudachiPy loads by name",
    "dask": "the cluster under prefect-dask's DaskTaskRunner (scale extra, `--runner dask`)",
    "defusedxml": "openpyxl parses a vendor's worksheets with it when installed (openpyxl.xml.DEFUSEDXML): "
                  "no entities, no external DTDs, beside our own extractors/readers/xmlsafe.py",
}
# Declared for work another branch is bringing into the run path (none today). {distribution: reason}
PENDING: dict[str, str] = {}
# Extras whose packages the run path may import (only in the code that runs with them). {extra: reason}
RUN_EXTRAS = {"scale": "pipeline/scale.py imports prefect_dask only for the dask task runner"}
# Run-path modules allowed to import the (uninstalled) sample builder: developer tools run from the repo root.
SAMPLES_USERS = {"pipeline/bench.py": "`make bench` builds its corpus with samples.build from the repo root"}


@lru_cache(maxsize=None)
def packages_distributions() -> dict[str, list[str]]:
    return _packages_distributions()


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return canonical(match.group(1))


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def declared(*extras: str, main: bool = True) -> set[str]:
    """Distribution names declared in [project] dependencies and the given extras (self-references followed)."""
    project = pyproject()["project"]
    optional = project.get("optional-dependencies", {})
    names: set[str] = set()
    todo = list(project["dependencies"]) if main else []
    seen_extras: set[str] = set()
    for extra in extras:
        todo += optional[extra]
        seen_extras.add(extra)
    while todo:
        req = todo.pop()
        name = requirement_name(req)
        if name == canonical(project["name"]):  # "mdsgap[samples]": the extras named in brackets
            for extra in re.search(r"\[([^\]]*)\]", req).group(1).split(","):
                extra = extra.strip()
                if extra not in seen_extras:
                    seen_extras.add(extra)
                    todo += optional[extra]
            continue
        names.add(name)
    return names


class _Imports(ast.NodeVisitor):
    """Top-level module names imported by one file, each with a line; fallbacks (`except ImportError:`) and
    `if TYPE_CHECKING:` blocks are left out: they are not what the code needs to run."""

    def __init__(self, where: str):
        self.where = where
        self.found: dict[str, list[str]] = defaultdict(list)

    def _add(self, module: str, node: ast.AST) -> None:
        self.found[module.split(".")[0]].append(f"{self.where}:{node.lineno}")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self._add(node.module, node)

    def visit_Try(self, node: ast.Try) -> None:
        for stmt in node.body + node.orelse + node.finalbody:
            self.visit(stmt)
        for handler in node.handlers:
            caught = ast.unparse(handler.type) if handler.type is not None else ""
            if "ImportError" not in caught and "ModuleNotFoundError" not in caught:
                self.visit(handler)

    def visit_If(self, node: ast.If) -> None:
        if "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.orelse:
                self.visit(stmt)
            return
        self.generic_visit(node)


@lru_cache(maxsize=None)
def imports_under(*folders: str) -> dict[str, list[str]]:
    """{top-level module: ["path:line", ...]} over every .py file under the folders."""
    found: dict[str, list[str]] = defaultdict(list)
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            where = path.relative_to(ROOT).as_posix()
            visitor = _Imports(where)
            visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=where))
            for module, places in visitor.found.items():
                found[module] += places
    return found


def third_party(found: dict[str, list[str]]) -> dict[str, list[str]]:
    return {m: w for m, w in found.items() if m not in FIRST_PARTY and m not in sys.stdlib_module_names}


def providers(module: str) -> set[str]:
    """The distributions that install `module`; for one not installed here (an extra such as `scale` left out
    of this environment), the declared distribution of the same name."""
    installed = {canonical(d) for d in packages_distributions().get(module, [])}
    if installed:
        return installed
    project = pyproject()["project"]
    every = list(project["dependencies"]) + [r for rs in project.get("optional-dependencies", {}).values() for r in rs]
    return {canonical(module)} & {requirement_name(r) for r in every}


def undeclared(found: dict[str, list[str]], allowed: set[str]) -> list[str]:
    """Third-party imports whose distribution is not among `allowed`, said with where they are."""
    problems = []
    for module, where in sorted(third_party(found).items()):
        providers_ = providers(module)
        if not providers_:
            problems.append(f"{module} (not installed; imported at {', '.join(where[:3])})")
        elif not providers_ & allowed:
            problems.append(f"{module} from {'/'.join(sorted(providers_))} (imported at {', '.join(where[:3])})")
    return problems


def imported_distributions(found: dict[str, list[str]]) -> set[str]:
    return {d for module in third_party(found) for d in providers(module)}


def test_walker_sees_nested_imports_and_skips_fallbacks(tmp_path):
    """The import walker itself: function-level imports count, ImportError fallbacks and typing blocks do not."""
    source = (
        "import os\nfrom typing import TYPE_CHECKING\n"
        "def f():\n    import numpy as np\n    from lxml import etree\n"
        "try:\n    from yaml import CSafeLoader\nexcept ImportError:\n    import simplejson\n"
        "if TYPE_CHECKING:\n    import pandas\n"
        "from . import sibling\n"
    )
    visitor = _Imports("x.py")
    visitor.visit(ast.parse(source))
    assert set(visitor.found) == {"os", "typing", "numpy", "lxml", "yaml"}
    assert set(third_party(visitor.found)) == {"numpy", "lxml", "yaml"}
    assert undeclared({"simplejson": ["x.py:9"]}, {"numpy"})  # not installed here: said, not ignored


def test_every_run_path_import_is_declared():
    allowed = declared(*RUN_EXTRAS)
    problems = undeclared(imports_under(*RUN_PATH), allowed)
    assert not problems, "imported by extractors/rules/pipeline but not declared in pyproject.toml: " + "; ".join(problems)


def test_every_run_dependency_is_imported_or_a_listed_plugin():
    used = imported_distributions(imports_under(*RUN_PATH))
    unused = sorted(declared(*RUN_EXTRAS) - used - set(PLUGINS) - set(PENDING))
    assert not unused, f"declared but never imported by extractors/rules/pipeline: {unused}"


def test_allow_lists_name_declared_distributions_with_a_reason():
    run = declared(*RUN_EXTRAS)
    for name, reason in {**PLUGINS, **PENDING}.items():
        assert name in run, f"{name} is allow-listed but no longer declared: drop its entry"
        assert len(reason) > 20
    optional = pyproject()["project"]["optional-dependencies"]
    assert set(RUN_EXTRAS) <= set(optional)


def test_sample_builder_and_tests_imports_are_declared():
    assert not (problems := undeclared(imports_under("samples"), declared("samples"))), problems
    assert not (problems := undeclared(imports_under("tests"), declared("test"))), problems


def test_samples_only_packages_stay_out_of_the_run_dependencies():
    """What only the sample builder needs (reportlab, Pillow) is in the `samples` extra, which `test` includes."""
    samples_only = imported_distributions(imports_under("samples")) - imported_distributions(imports_under(*RUN_PATH))
    assert {"reportlab", "pillow"} <= samples_only
    main = declared()
    assert not samples_only & main, f"only the sample builder imports {sorted(samples_only & main)}"
    assert samples_only <= declared("samples")
    assert declared("samples") <= declared("test")


def test_run_path_imports_the_sample_builder_only_from_developer_tools():
    users = {where.split(":")[0] for where in imports_under(*RUN_PATH).get("samples", [])}
    assert users <= set(SAMPLES_USERS), f"the installed package cannot import samples/: {sorted(users)}"


def test_samples_is_not_part_of_the_installed_package():
    include = pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]
    tops = [d for d in ROOT.iterdir() if d.is_dir() and not d.is_symlink() and (d / "__init__.py").is_file()]
    packages = {p.parent.relative_to(ROOT).as_posix().replace("/", ".") for top in tops for p in top.rglob("__init__.py")}
    assert {"samples", "tests", *RUN_PATH} <= packages
    installed = {p for p in packages if any(fnmatch.fnmatchcase(p, pattern) for pattern in include)}
    assert not {p for p in installed if p.split(".")[0] in ("samples", "tests")}
    for top in RUN_PATH:
        assert {p for p in packages if p.split(".")[0] == top} <= installed, top


def test_requirements_lock_pins_every_declared_distribution():
    pins = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"requirements.lock: {line!r} is not an exact pin"
            pins[canonical(name)] = version
    project = pyproject()["project"]
    requirements = list(project["dependencies"]) + [r for extra in project["optional-dependencies"].values() for r in extra]
    for req in requirements:
        name = requirement_name(req)
        if name == canonical(project["name"]):
            continue
        assert name in pins, f"{name} is declared but not pinned in requirements.lock"
        exact = re.search(r"==\s*([^\s,;]+)", req)
        if exact:
            assert pins[name] == exact.group(1), f"{name}: pyproject {exact.group(1)}, lock {pins[name]}"


@pytest.mark.parametrize("removed", ["ginza", "ja-ginza", "plac"])
def test_unused_language_pipeline_is_gone(removed):
    """rules/remarks.py uses spacy.blank("ja") with SudachiPy; the GiNZA model pipeline is not installed."""
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert not any(canonical(line.split("==")[0]) == removed for line in text.splitlines())
    assert removed not in declared("test", "scale")
