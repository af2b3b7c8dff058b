"""What the console shows: the run summary and vendor-derived text made inert (no markup, escape sequences or
hidden direction marks). The command line (pipeline.cli) and the served watch print through it."""
from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.safe_io import neutral_text
from rules.findings import SEVERITIES

console = Console()
errors = Console(stderr=True)  # one Japanese message when a command fails


def plain(text: object) -> str:
    """Text for the console without markup (markup=False): no escape sequence or control character, bidi shown."""
    return neutral_text(str(text)).replace("\r", " ")


def inert(text: object) -> str:
    """Vendor-derived text for the console: no escape sequence or control character, bidi shown, no markup."""
    return escape(plain(text))


def print_summary(summary) -> None:
    console.print(f"[bold]処理結果[/bold]（基準日 {summary.as_of}）")
    console.print(f"  新たに読み取ったファイル: {len(summary.read)} 件（項目 {summary.items_read} 件）")
    if summary.duplicates:
        console.print(f"  読み取り済みの内容のため省略: {len(summary.duplicates)} 件")
    if summary.waiting:
        console.print(f"  まだ書き込み中のため次回に処理します: {inert(', '.join(summary.waiting))}")
    console.print(f"  現在有効な書類: {summary.current_documents} 件（回答表 {summary.answer_rows} 行）")
    if summary.rules_ran:
        by_sev = "、".join(f"{s} {summary.findings_by_severity.get(s, 0)} 件" for s in SEVERITIES)
        console.print(f"  指摘: {summary.findings} 件（{by_sev}）、解消済み {summary.resolved} 件")
    if summary.failures:
        table = Table(title=f"読み取れなかったファイル {len(summary.failures)} 件（failed/ に移動しました）",
                      show_lines=True)
        table.add_column("ファイル", overflow="fold")
        table.add_column("理由", overflow="fold")
        for name, reason in summary.failures:
            table.add_row(inert(name), inert(reason))
        console.print(table)
    for warning in summary.warnings:
        console.print(f"[yellow]注意:[/yellow] {inert(warning)}")
    reports = [p for p in summary.outputs if Path(p).suffix == ".html"]
    memos = [p for p in summary.outputs if Path(p).suffix == ".docx"]
    files = [Path(p).name for p in summary.outputs if Path(p).suffix not in (".html", ".docx")]
    if files:
        console.print("  出力: " + inert(", ".join(files)), highlight=False)
    if reports:
        console.print(f"  報告書: {len(reports)} 件（index.html から開けます）", highlight=False)
    if memos:
        console.print(f"  交渉メモ: {len(memos)} 件（{Path(memos[0]).parent.name}/ フォルダ）", highlight=False)
    if getattr(summary, "log_file", ""):
        console.print(f"  処理の記録: {inert(summary.log_file)}", highlight=False)
