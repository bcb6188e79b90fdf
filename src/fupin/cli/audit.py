"""The ``fupin audit`` commands: ``verify`` the hash chain, print its ``head``, ``list`` entries.

Thin wrappers over :meth:`fupin.Store.verify_audit`, :meth:`~fupin.Store.audit_head` and :meth:`~fupin.Store.audit_entries`;
every one needs audit.read. ``list`` masks personal values the way
``fupin export`` does.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import click

from fupin.cli._app import echo_json, pass_store

_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group("audit")
def audit_group() -> None:
    """The audit log: check its hash chain, keep its head elsewhere, read it.

    \b
    Example:
      fupin audit verify
      fupin audit head --json > audit-head-$(date +%F).json
      fupin audit verify --expect 3f5a...e1
      fupin audit list --table households --since 2026-01-01
    """


@audit_group.command("verify")
@click.option("--expect", metavar="HASH", help="A head hash kept elsewhere earlier (`fupin audit head`): it must still be in the chain.")
@_JSON
@pass_store
def verify_command(store: Any, expect: str | None, as_json: bool) -> None:
    """Check every entry's hash and link, and the end of the chain against its anchor.

    Exit 0 if the log is whole; 1 naming the first broken entry (changed,
    deleted, inserted, or the log emptied). Someone able to rewrite both the
    log and its anchor is caught only with --expect and a head copied
    elsewhere before.

    \b
    Example:
      fupin audit verify --expect "$(cat audit-head.txt)"
    """
    verdict = store.verify_audit(expect)
    if as_json:
        echo_json(verdict.to_dict())
        if not verdict.ok:
            click.get_current_context().exit(1)
        return
    if not verdict.ok:
        raise click.ClickException(f"审计日志已被改动 / the audit log is broken: {verdict.broken}")
    shown = f"#{verdict.head.id} {verdict.head.hash}" if verdict.head else "(空 / empty)"
    expected = " (含所给链头 / holds the expected head)" if verdict.expected_found else ""
    click.echo(f"审计日志完整 / audit log intact: {verdict.entries} 条 entries, 链头 head {shown}{expected}")


@audit_group.command("head")
@_JSON
@pass_store
def head_command(store: Any, as_json: bool) -> None:
    """Print the head of the chain (its hash), to keep somewhere the database's owner cannot reach.

    \b
    Example:
      fupin audit head | mail -s "fupin audit head" auditor@example.org
    """
    head = store.audit_head()
    if as_json:
        echo_json(head.to_dict() if head else None)
    elif head is None:
        click.echo("审计日志为空 / the audit log is empty", err=True)
    else:
        click.echo(head.hash)
        click.echo(f"条目 / entry #{head.id}, 共 {head.count} 条 / {head.count} entries", err=True)


def _moment(text: str | None, option: str) -> dt.datetime | None:
    """An ISO date (midnight, UTC) or date-time (UTC unless it names its offset)."""
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"不是日期或时间 / not an ISO date or date-time: {text}", param_hint=option) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@audit_group.command("list")
@click.option("--table", metavar="TABLE", help="Only entries of this table (households, persons ...).")
@click.option("--key", metavar="KEY", help="Only entries of this record key (a household number, an ID number ...).")
@click.option("--user", metavar="UNIT:USER", help="Only entries by this user (USER alone: of any unit).")
@click.option("--operation", metavar="OP", help="Only this operation (insert, update, import, export ...).")
@click.option("--since", metavar="DATE", help="Only entries from this date or date-time on (UTC).")
@click.option("--until", metavar="DATE", help="Only entries before this date or date-time (UTC).")
@_JSON
@pass_store
def list_command(store: Any, table: str | None, key: str | None, user: str | None, operation: str | None,
                 since: str | None, until: str | None, as_json: bool) -> None:
    """List audit entries, oldest first, with ID numbers, phones and accounts masked.

    \b
    Example:
      fupin audit list --table households --key 530326106200010001
      fupin audit list --user QJNU:office --operation export --since 2026-01-01 --json
    """
    entries = store.audit_entries(table=table, key=key, user=user, operation=operation,
                                  since=_moment(since, "--since"), until=_moment(until, "--until"), masked=True)
    shown = [
        {
            "id": e.id, "at": _utc_text(e.at), "unit": e.unit, "user": e.user, "operation": e.operation, "table": e.table_name,
            "key": e.record_key, "old": e.old, "new": e.new, "reason": e.reason,
            "hash": e.hash,
        }
        for e in entries
    ]
    if as_json:
        echo_json(shown)
        return
    from fupin.ext import table as text_table

    def change(e: dict[str, Any]) -> str:
        text = json.dumps(e["new"] if e["new"] is not None else e["old"], ensure_ascii=False, default=str)
        return text if len(text) <= 60 else text[:59] + "…"

    click.echo("\n".join(text_table(
        ["#", "时间 time (UTC)", "操作人 by", "操作 op", "表 table", "记录 key", "内容 values", "原因 reason"],
        [[str(e["id"]), e["at"][:19].replace("T", " "), f"{e['unit']}:{e['user']}", e["operation"], e["table"], e["key"],
          change(e), e["reason"] or ""] for e in shown],
        indent="",
    )))


def _utc_text(at: dt.datetime) -> str:
    return (at.astimezone(dt.UTC) if at.tzinfo else at.replace(tzinfo=dt.UTC)).isoformat()


COMMANDS = (audit_group,)
