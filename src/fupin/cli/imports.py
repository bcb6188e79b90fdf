"""``fupin import``, ``fupin imports``, ``fupin export`` and ``fupin template``: files in and out."""

from __future__ import annotations

import codecs
import sys
from pathlib import Path
from typing import Any

import click

from fupin import Hooks, ImportResult, ReadLimits, RowError, WriteFailed, describe_import_kinds, is_workbook, write_template
from fupin.cli._app import Context, echo_json, failure, os_reason, pass_store, progress


def _known_name(hooks: Hooks, name: str) -> None:
    """An unknown import kind ``name`` is a usage error."""
    kinds = hooks.importers()
    if name not in kinds:
        raise click.BadParameter(f"未知的导入类型 / unknown kind {name!r}; known: {', '.join(sorted(kinds))}", param_hint="KIND")


def _known_kind(store: Any, name: str) -> Any:
    """The import kind ``name`` bound to ``store`` (one with ``hooks`` and ``vocab``); an unknown one is a usage error."""
    _known_name(store.hooks, name)
    return store.hooks.importers()[name].bind(store)


@click.command("import")
@click.argument("kind", required=False)
# Directories, pipes and devices get through click and are refused by the reader itself, in one line, exit 4.
@click.argument("files", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--list", "list_kinds", is_flag=True, help="List every import kind with its columns.")
@click.option("--encoding", callback=lambda _ctx, _param, value: _known_encoding(value),
              help="CSV encoding (detected by default: UTF-8, UTF-8 with BOM or GB18030/GBK).")
@click.option("--sheet", help="XLSX sheet name or 1-based number (default: the first).")
@click.option("--on-error", type=click.Choice(["abort", "skip"]), default="abort", show_default=True,
              help="abort: one bad row and nothing is written; skip: write the good rows.")
@click.option("--dry-run", is_flag=True, help="Validate everything, write nothing.")
@click.option("--errors", "errors_file", type=click.Path(dir_okay=False, path_type=Path), help="Write every error to this CSV file.")
@click.option("--batch-size", type=click.IntRange(min=1), default=5000, show_default=True, help="Rows per bulk write.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@click.option("--max-cells", type=click.IntRange(min=1), default=1_000_000, show_default=True,
              help="XLSX: cells a sheet's grid may always span (more if its XML is larger: XML bytes / 4).")
@click.option("--max-part-mb", type=click.IntRange(min=1), default=1024, show_default=True,
              help="XLSX: MiB one part of the zip container may inflate to.")
@click.option("--max-total-mb", type=click.IntRange(min=1), default=2048, show_default=True,
              help="XLSX: MiB all parts together may inflate to.")
@click.option("--max-ratio", type=click.FloatRange(min=1), default=200, show_default=True,
              help="XLSX: how many times a part over 1 MiB may inflate.")
@click.pass_obj
def import_(obj: Context, kind: str | None, files: tuple[Path, ...], list_kinds: bool, encoding: str | None,
            sheet: str | None, on_error: str, dry_run: bool, errors_file: Path | None, batch_size: int, as_json: bool,
            max_cells: int, max_part_mb: int, max_total_mb: int, max_ratio: float) -> None:
    """Import FILES (CSV, XLSX or JSON lines) as records of KIND.

    Headers may be Chinese (as on the registration forms) or English. Every row
    is validated as through the library; natural keys decide insert or update,
    so importing the same file twice changes nothing. Exit 1 if any row is refused.
    Only regular files are read (exit 4 otherwise); an XLSX file must stay within
    the --max-* limits, checked before it is read. --json prints one JSON
    document and --errors FILE is written whatever happens: a file refused as a
    whole is one error naming it (row 0), and a failure adds "error" and
    "exit_code" to the document.

    \b
    Example:
      fupin import households 者海镇建档立卡户.xlsx --errors errors.csv
      fupin import persons members.csv --on-error skip --json
      fupin import households 全省花名册.xlsx --max-cells 50000000
      fupin import --list
    """
    if list_kinds:
        _list_import_kinds(obj, as_json)
        return
    if not kind or not files:
        raise click.UsageError("需要 KIND 和 FILE / KIND and at least one FILE are required (or --list)")
    not_sheets = [str(path) for path in files if not is_workbook(path)]
    if sheet is not None and not_sheets:
        raise click.UsageError(f"--sheet 只用于 XLSX 文件 / --sheet applies to XLSX files only, not {', '.join(not_sheets)}")
    result = ImportResult(kind, dry_run, on_error)
    failed: Exception | None = None
    imported = False
    try:
        if errors_file is not None:
            _writable(errors_file)  # before anything is imported, not after it is committed
        store = obj.store()
        _known_kind(store, kind)
        limits = ReadLimits(max_part_mb=max_part_mb, max_total_mb=max_total_mb, max_ratio=max_ratio, max_cells=max_cells)
        with progress(f"导入 / import {kind}") as report:
            result = store.import_files(kind, files, encoding=encoding, sheet=sheet, on_error=on_error,
                                        dry_run=dry_run, batch_size=batch_size, progress=report, limits=limits)
        imported = True
    except Exception as exc:  # reported below in the document and the errors file, then raised for its one line
        failed = exc
        message = _outcome(exc, obj)[0]
        path = _file_of(message, files)
        if path is not None and hasattr(exc, "row"):  # a row that stopped the reading (a CSV row's shape): its row and column
            result.errors.append(RowError(path.name, exc.row, exc.column, None, exc.reason))
        elif path is not None:  # a file refused as a whole: one error naming it, row 0 (no row of it)
            result.errors.append(RowError(path.name, 0, "", None, message.removeprefix(f"{path}:").strip()))
    if errors_file is not None and not isinstance(failed, WriteFailed):
        try:
            result.write_errors_csv(errors_file)
        except OSError as exc:
            failed = failed or _cannot_write(errors_file, exc)
    if as_json:
        outcome = dict(zip(("error", "exit_code"), _outcome(failed, obj))) if failed else {}
        echo_json(result.to_dict() | outcome)
    elif imported:  # also when only the errors file failed: what was written is said
        _print_import(result)
    if failed is not None:
        raise failed
    if result.errors:
        sys.exit(1)


def _known_encoding(value: str | None) -> str | None:
    if value is not None:
        try:
            codecs.lookup(value)
        except LookupError:
            raise click.BadParameter(f"未知编码 / unknown encoding {value!r} (e.g. utf-8, gb18030)") from None
    return value


def _writable(path: Path) -> None:
    """Refuse now a file that cannot be created or written (no such folder, no permission)."""
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise _cannot_write(path, exc) from None


def _cannot_write(path: Path | str, exc: OSError) -> WriteFailed:
    return WriteFailed(f"{path}: 无法写入 / cannot write: {os_reason(exc)}")


def _outcome(exc: BaseException, obj: Context) -> tuple[str, int]:
    """The one line and exit status ``exc`` ends the command with (a usage error's own, else :func:`failure`'s)."""
    if isinstance(exc, click.ClickException):
        return exc.format_message(), exc.exit_code
    return failure(exc, obj.db)


def _file_of(message: str, files: tuple[Path, ...]) -> Path | None:
    """The file a whole-file refusal names: its message begins with the path, as given."""
    for path in files:
        if message.startswith(f"{path}:"):
            return path
    return None


def _print_import(result: Any) -> None:
    for f in result.files:
        click.echo(f"{f.file}: 新增 {f.inserted} inserted, 更新 {f.updated} updated, 未变 {f.unchanged} unchanged, "
                   f"拒绝 {f.rejected} rejected")
        if f.ignored_columns:
            click.echo(f"  忽略的列 / ignored columns: {', '.join(f.ignored_columns)}")
        for notice in f.notices:
            click.echo(f"  {notice}")
    shown = result.errors[:20]
    for e in shown:
        click.echo(f"  {e}", err=True)
    if len(result.errors) > len(shown):
        click.echo(f"  ... 共 {len(result.errors)} 个错误 / {len(result.errors)} errors in all (use --errors FILE)", err=True)
    if result.dry_run:
        click.echo("试运行, 未写入 / dry run: nothing written")
    elif result.errors and not result.committed:
        click.echo("有错误, 未写入任何数据 / rows were refused: nothing written (use --on-error skip to write the good rows)")


def _list_import_kinds(obj: Context, as_json: bool) -> None:
    data = describe_import_kinds(Hooks(obj.pm))
    if as_json:
        echo_json(data)
        return
    for item in data:
        click.echo(f"{item['kind']}  {item['label_zh']} / {item['label_en']}  (key: {', '.join(item['key'])})")
        for c in item["columns"]:
            flags = " *" if c["required"] else ""
            vocab = f" [{c['vocab']}]" if c["vocab"] else ""
            click.echo(f"    {c['zh']} / {c['name']}  {c['type']}{vocab}{flags}")
        click.echo("")


@click.command()
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_store
def imports(store: Any, limit: int, as_json: bool) -> None:
    """List import batches, newest first: file, content hash, counts, who and when.

    \b
    Example:
      fupin imports --limit 10
    """
    batches = store.import_batches(limit=limit)
    if as_json:
        echo_json([b.to_dict() for b in batches])
        return
    from fupin.ext import table

    click.echo("\n".join(table(
        ["#", "时间 time", "类型 kind", "文件 file", "状态 status", "新增", "更新", "未变", "拒绝", "操作人 by"],
        [[str(b.id), b.started_at.strftime("%Y-%m-%d %H:%M"), b.kind, b.file_name, b.status,
          str(b.inserted), str(b.updated), str(b.unchanged), str(b.rejected), f"{b.unit}:{b.user}"]
         for b in batches],
        indent="",
    )))


FORMATS = ["csv", "xlsx", "jsonl"]


@click.command()
@click.argument("kind")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="-", show_default=True,
              help="Output file ('-' for stdout).")
@click.option("--where", "where", multiple=True, metavar="COLUMN=VALUE",
              help="Filter rows (also != >= <= > < and ~ for 'contains'); repeatable, ANDed.")
@click.option("--unmasked", is_flag=True, help="Write ID numbers, phones and accounts in full (audited).")
@click.option("--english", is_flag=True, help="English column headers (default: Chinese).")
@pass_store
def export(store: Any, kind: str, fmt: str, output: str, where: tuple[str, ...], unmasked: bool, english: bool) -> None:
    """Export records of KIND as a file that `fupin import` reads back.

    Personal data is masked unless --unmasked. Every export leaves an audit
    entry before its first row is written.

    \b
    Example:
      fupin export households --format xlsx -o households.xlsx --where 贫困户属性=低保贫困户
      fupin export persons --unmasked --format jsonl -o persons.jsonl
    """
    if output == "-" and fmt == "xlsx":
        raise click.UsageError("XLSX 需要输出文件 / xlsx needs -o FILE")
    _known_kind(store, kind)
    target: Any = click.open_file("-", "wb") if output == "-" else output
    # Audited before the first row is written, masked or not.
    with progress(f"导出 / export {kind}") as report:
        count = store.export(kind, target, name=output, fmt=fmt, where=where, unmasked=unmasked, english=english,
                             progress=report).rows
    if output != "-":
        click.echo(f"已导出 / exported {count} 行 rows to {output}", err=True)


@click.command()
@click.argument("kind")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Output file (default: KIND-模板.FORMAT).")
@click.option("--english", is_flag=True, help="English column headers (default: Chinese).")
@click.pass_obj
def template(obj: Context, kind: str, fmt: str, output: str | None, english: bool) -> None:
    """Write an empty import file for KIND: the headers, and in XLSX drop-down lists of allowed values.

    \b
    Example:
      fupin template households --format xlsx -o 贫困户导入模板.xlsx
    """
    hooks = Hooks(obj.pm)
    # Templates need the plugins' kinds and vocabularies, not a database.
    _known_name(hooks, kind)
    path = output or f"{kind}-模板.{fmt}"
    write_template(hooks, kind, path, fmt=fmt, english=english)
    click.echo(f"已生成模板 / template written: {path}")
