"""Which keys a rule's `condition` may hold, read from the check's own code (no list kept by hand).

A check reads its parameters as `cond.get("key", default)`, `cond["key"]` or `"key" in cond`, directly or
through a helper it hands `cond` to (`_item_filter(doc, cond)`), and its `describe` function reads them the
same way. Those constant keys are the condition's vocabulary; a rule naming any other key is refused (a
misspelt key would otherwise be ignored and the rule would apply to every item). The default's literal
gives the expected type (a list default → a list, `True` → a boolean, `2` → an integer). A sub-dictionary
read as `cond["checklist"]["concepts"]` (or through `cl = cond["checklist"]`) gets its own key set.

When the code reads the condition in a way this cannot follow (a key held in a variable, `cond.items()`,
`cond` handed to a builtin), the check is "open": any key is accepted. `tests/test_config_schema.py` keeps
every shipped check closed.
"""
from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from rules.schema import _TYPE_WORDS, ConfigError, did_you_mean, value_vocabularies, where

_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


@dataclass
class KeySpec:
    """What the code does with one condition key (or one key of a sub-dictionary)."""

    types: set[str] = field(default_factory=set)  # "list" | "bool" | "int" | "number" from literal defaults
    subkeys: dict[str, "KeySpec"] = field(default_factory=dict)
    sub_seen: bool = False  # the code reads constant keys of this value (a sub-dictionary)
    dynamic: bool = False  # ...and also uses it in a way not followed (its keys are then not checked)

    @property
    def checks_subkeys(self) -> bool:
        return self.sub_seen and not self.dynamic

    @property
    def type(self) -> str | None:
        return next(iter(self.types)) if len(self.types) == 1 else None


@dataclass
class ConditionKeys:
    keys: dict[str, KeySpec] = field(default_factory=dict)
    open: bool = False  # True: the code reads keys this analysis cannot see; any key is accepted
    why_open: str = ""


def _literal_type(node: ast.AST | None) -> str | None:
    if isinstance(node, (ast.List, ast.Tuple)):
        return "list"
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool):
            return "bool"
        if isinstance(node.value, int):
            return "int"
        if isinstance(node.value, float):
            return "number"
    return None


@functools.cache
def _function_node(fn) -> ast.FunctionDef | ast.Lambda | None:
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return None
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == fn.__name__:
            return node
    return None


def _params(node) -> list[str]:
    args = node.args
    return [a.arg for a in args.posonlyargs + args.args]


class _Analyzer:
    def __init__(self, result: ConditionKeys):
        self.result = result
        self.seen: set[tuple[int, str]] = set()

    def fail(self, why: str) -> None:
        if not self.result.open:
            self.result.open, self.result.why_open = True, why

    def spec(self, path: tuple[str, ...]) -> KeySpec:
        spec = self.result.keys.setdefault(path[0], KeySpec())
        for key in path[1:]:
            spec.sub_seen = True
            spec = spec.subkeys.setdefault(key, KeySpec())
        return spec

    def analyze(self, node, name: str, globals_: dict) -> None:
        """Follow every read of the parameter `name` inside the function/lambda `node`."""
        if (id(node), name) in self.seen:
            return
        self.seen.add((id(node), name))
        parents: dict[int, ast.AST] = {}
        for parent in ast.walk(node):
            for child in ast.iter_child_nodes(parent):
                parents[id(child)] = parent
        aliases: dict[str, tuple[str, ...]] = {name: ()}
        # Aliases: `x = cond` or `a, b = cond["a"], cond["b"]` (sub-dictionaries).
        for sub in ast.walk(node):
            if isinstance(sub, ast.Assign) and len(sub.targets) == 1:
                pairs = [(sub.targets[0], sub.value)]
                if isinstance(sub.targets[0], ast.Tuple) and isinstance(sub.value, ast.Tuple):
                    pairs = list(zip(sub.targets[0].elts, sub.value.elts))
                for target, value in pairs:
                    path = self.path_of(value, aliases, parents, node)
                    if isinstance(target, ast.Name) and path is not None:
                        aliases[target.id] = path
        for sub in ast.walk(node):
            if not (isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load) and sub.id in aliases):
                continue
            if self._shadowed(sub, parents, node):
                continue
            self.use(sub, aliases[sub.id], parents, globals_, node)

    @staticmethod
    def _shadowed(name_node: ast.Name, parents: dict, root) -> bool:
        cur = parents.get(id(name_node))
        while cur is not None and cur is not root:
            if isinstance(cur, _COMPREHENSIONS):
                for gen in cur.generators:
                    if any(isinstance(t, ast.Name) and t.id == name_node.id for t in ast.walk(gen.target)):
                        return True
            cur = parents.get(id(cur))
        return False

    def path_of(self, expr, aliases, parents, root) -> tuple[str, ...] | None:
        """The condition path an expression reads (`cond["a"]` → ("a",)), None when it is not one."""
        if isinstance(expr, ast.Name) and expr.id in aliases:
            return aliases[expr.id]
        if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Constant) \
                and isinstance(expr.slice.value, str):
            base = self.path_of(expr.value, aliases, parents, root)
            return None if base is None else base + (expr.slice.value,)
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "get" \
                and expr.args and isinstance(expr.args[0], ast.Constant) and isinstance(expr.args[0].value, str):
            base = self.path_of(expr.func.value, aliases, parents, root)
            return None if base is None else base + (expr.args[0].value,)
        return None

    def use(self, name_node: ast.Name, path: tuple[str, ...], parents, globals_, root) -> None:
        parent = parents.get(id(name_node))
        where = f"{name_node.id}（{getattr(root, 'name', 'lambda')}）"
        # cond["key"] / cond.get("key", default)
        if isinstance(parent, ast.Subscript) and parent.value is name_node:
            if isinstance(parent.slice, ast.Constant) and isinstance(parent.slice.value, str):
                self.spec(path + (parent.slice.value,))
                return
            return self._dynamic(path, f"{where} をキー変数で参照")
        if isinstance(parent, ast.Attribute) and parent.value is name_node:
            call = parents.get(id(parent))
            if parent.attr == "get" and isinstance(call, ast.Call) and call.func is parent:
                if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
                    spec = self.spec(path + (call.args[0].value,))
                    kind = _literal_type(call.args[1] if len(call.args) > 1 else None)
                    if kind:
                        spec.types.add(kind)
                    return
            return self._dynamic(path, f"{where}.{parent.attr}")
        if isinstance(parent, ast.Compare) and len(parent.ops) == 1 and parent.comparators[0] is name_node \
                and isinstance(parent.ops[0], (ast.In, ast.NotIn)) and isinstance(parent.left, ast.Constant):
            self.spec(path + (str(parent.left.value),))
            return
        if isinstance(parent, ast.Assign) and parent.value is name_node:
            return  # an alias, followed through its own name
        if isinstance(parent, ast.Tuple) and isinstance(parents.get(id(parent)), ast.Assign):
            return
        if isinstance(parent, ast.Call) and (name_node in parent.args
                                             or any(k.value is name_node for k in parent.keywords)):
            if path:  # a sub-dictionary handed on: its keys are not followed
                return self._dynamic(path, where)
            return self._call(parent, name_node, globals_, where)
        return self._dynamic(path, where)

    def _dynamic(self, path: tuple[str, ...], why: str) -> None:
        if not path:
            self.fail(why)
            return
        self.spec(path).dynamic = True

    def _call(self, call: ast.Call, name_node: ast.Name, globals_: dict, where: str) -> None:
        fn = globals_.get(call.func.id) if isinstance(call.func, ast.Name) else None
        if not inspect.isfunction(fn):
            return self.fail(f"{where} を {ast.unparse(call.func)} に渡している")
        node = _function_node(fn)
        if node is None:
            return self.fail(f"{fn.__name__} のソースがない")
        params = _params(node)
        if name_node in call.args:
            index = call.args.index(name_node)
            if index >= len(params):
                return self.fail(f"{fn.__name__} の可変長引数")
            param = params[index]
        else:
            param = next(k.arg for k in call.keywords if k.value is name_node)
            if param is None or param not in params:
                return self.fail(f"{fn.__name__} のキーワード引数")
        self.analyze(node, param, fn.__globals__)


def _decorator_describe(fn, check_name: str):
    """The `describe` argument (a lambda node, or a function) of the @check(...) that registered `fn`."""
    node = _function_node(fn)
    if node is None:
        return None
    for deco in getattr(node, "decorator_list", []):
        if isinstance(deco, ast.Call) and deco.args and isinstance(deco.args[0], ast.Constant) \
                and deco.args[0].value == check_name:
            arg = deco.args[2] if len(deco.args) > 2 else next(
                (k.value for k in deco.keywords if k.arg == "describe"), None)
            return arg
    return None


@functools.cache
def condition_keys(check_name: str) -> ConditionKeys:
    """The keys the registered check `check_name` (and its description) reads from a rule's condition."""
    from rules.checks import CHECKS

    spec = CHECKS[check_name]
    result = ConditionKeys()
    analyzer = _Analyzer(result)
    node = _function_node(spec.fn)
    if node is None or not _params(node):
        result.open, result.why_open = True, "ソースがない"
        return result
    analyzer.analyze(node, _params(node)[0], spec.fn.__globals__)
    describe = _decorator_describe(spec.fn, check_name)
    if isinstance(describe, ast.Lambda) and _params(describe):
        analyzer.analyze(describe, _params(describe)[0], spec.fn.__globals__)
    elif isinstance(describe, ast.Name):
        fn = spec.fn.__globals__.get(describe.id)
        fn_node = _function_node(fn) if inspect.isfunction(fn) else None
        if fn_node is not None and _params(fn_node):
            analyzer.analyze(fn_node, _params(fn_node)[0], fn.__globals__)
    elif describe is None:
        analyzer.fail("describe が見つからない")
    result.keys.pop("check", None)
    return result


@functools.cache
def key_types() -> dict[str, str]:
    """A key name's type where some check gives it a literal default and no check disagrees.

    A key means the same thing in every check (`concepts` is a list of concept names everywhere), so a check
    that reads `cond.get("concepts")` without a default still gets the list type another check declares."""
    from rules.checks import CHECKS

    seen: dict[str, set[str]] = {}
    for name in CHECKS:
        for key, spec in condition_keys(name).keys.items():
            seen.setdefault(key, set()).update(spec.types)
    return {key: next(iter(types)) for key, types in seen.items() if len(types) == 1}


# ------------------------------------------------------------------------------ a rule file's condition

def check_condition(condition: dict, path: Path | str, root: yaml.Node | None, loc: tuple, rule_id: str) -> None:
    """Unknown keys and wrong types in a rule's condition (the keys its check reads, `condition_keys`)."""
    spec = condition_keys(str(condition.get("check")))
    if spec.open:
        return
    problems = []
    _check_keys(condition, spec.keys, loc, problems, top=True)
    if problems:
        sub_loc, message = problems[0]
        raise ConfigError(f"{where(path, root, sub_loc, 'ルールファイル')}: ルール {rule_id} の条件（condition）の"
                          f"{message}")


def _check_keys(values: dict, specs: dict, loc: tuple, problems: list, top: bool = False) -> None:
    allowed = (["check"] if top else []) + list(specs)
    for key, value in values.items():
        key_loc = loc + (key,)
        if top and key == "check":
            continue
        spec = specs.get(str(key))
        if spec is None:
            hint = did_you_mean(key, allowed)
            listed = f"この条件で使える項目: {', '.join(allowed)}" if allowed else "この条件には項目を指定できません"
            problems.append((key_loc, f"「{key}」は不明な項目です（{'、'.join(x for x in (hint, listed) if x)}）"))
            continue
        kind = spec.type or key_types().get(str(key))
        if value is not None and kind and not _type_ok(value, kind):
            shown = f"「{value}」"
            problems.append((key_loc, f"「{key}」の値{shown}の型が正しくありません（{_TYPE_WORDS.get(kind, kind)}で指定してください）"))
            continue
        vocabulary = value_vocabularies().get(str(key))
        if vocabulary and isinstance(value, list):
            bad = [v for v in value if str(v) not in vocabulary]
            if bad:
                hint = did_you_mean(bad[0], vocabulary)
                problems.append((key_loc, f"「{key}」の値「{bad[0]}」は使えません"
                                 + (f"（{hint}）" if hint else f"（{', '.join(sorted(vocabulary)[:20])}…）"
                                    if len(vocabulary) > 20 else f"（{', '.join(sorted(vocabulary))}）")))
                continue
        if spec.checks_subkeys:
            if not isinstance(value, dict):
                problems.append((key_loc, f"「{key}」は 項目: 値 の形式で指定してください（{', '.join(spec.subkeys)}）"))
                continue
            _check_keys(value, spec.subkeys, key_loc, problems)


def _type_ok(value, kind: str) -> bool:
    if kind == "list":
        return isinstance(value, list)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return True
