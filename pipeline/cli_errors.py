"""Command-line usage mistakes (unknown option, missing argument, a value of the wrong type) as one Japanese
message and exit code 2, instead of click's English "Usage: … Error" box."""
from __future__ import annotations

import re

import typer
from typer.core import TyperGroup

try:  # typer >= 0.2x carries its own copy of click; older ones use click itself
    from typer._click import exceptions as _exc
except ImportError:  # pragma: no cover
    from click import exceptions as _exc


def _param_name(param) -> str:
    if param is None:
        return "指定"
    opts = [o for o in getattr(param, "opts", []) if o.startswith("--")]
    if opts:
        return opts[0]
    return (getattr(param, "name", None) or "引数").upper()


_TYPE_WORDS = (("integer", "整数"), ("number", "数値"), ("float", "数値"), ("boolean", "true / false"),
               ("date", "YYYY-MM-DD 形式"), ("path", "パス"))


def _type_word(message: str) -> str:
    lowered = message.lower()
    return next((word for key, word in _TYPE_WORDS if key in lowered), "")


def _japanese(text: str) -> bool:
    return any("\u3040" <= ch <= "\u9fff" for ch in text)


def usage_message(exc: _exc.UsageError) -> str:
    """A Japanese sentence for a click usage error."""
    command = exc.ctx.command_path if getattr(exc, "ctx", None) is not None else "mdsgap"
    help_hint = f"（{command} --help で使い方を表示できます）"
    if isinstance(exc, _exc.NoSuchOption):
        hint = f"もしかして: {', '.join(sorted(exc.possibilities))}、" if exc.possibilities else ""
        return f"オプション {exc.option_name} はありません（{hint}{command} --help で使い方を表示できます）"
    if isinstance(exc, _exc.MissingParameter):
        return f"{_param_name(exc.param)} を指定してください{help_hint}"
    if isinstance(exc, _exc.BadParameter):
        name = _param_name(exc.param)
        if _japanese(exc.message):
            return exc.message if exc.param is None else f"{name}: {exc.message}"
        word = _type_word(exc.message)
        return f"{name} の値が正しくありません" + (f"（{word}で指定してください）" if word else help_hint)
    message = exc.format_message()
    if _japanese(message):
        return message
    found = re.search(r"No such command '([^']*)'", message)
    if found:
        close = re.search(r"Did you mean '([^']*)'", message)
        hint = f"もしかして: {close.group(1)}、" if close else ""
        return f"コマンド {found.group(1)} はありません（{hint}{help_hint[1:]}"
    found = re.search(r"unexpected extra argument\S* \((.*)\)", message)
    if found:
        return f"余分な引数があります: {found.group(1)}{help_hint}"
    return f"コマンドの指定が正しくありません（{message}）{help_hint}"


class JapaneseUsageGroup(TyperGroup):
    """The top-level group: usage errors of it and of every sub-command become one Japanese line."""

    def _say(self, exc: _exc.UsageError):
        if type(exc).__name__ == "NoArgsIsHelpError":  # `mdsgap` alone: click shows the help
            raise exc
        typer.secho(usage_message(exc), fg="red", err=True)
        raise typer.Exit(2) from None

    def make_context(self, *args, **kwargs):
        try:
            return super().make_context(*args, **kwargs)
        except _exc.UsageError as exc:
            self._say(exc)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except _exc.UsageError as exc:
            self._say(exc)
