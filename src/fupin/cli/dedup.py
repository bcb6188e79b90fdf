"""``fupin dedup``: find and merge people registered twice (``store.find_duplicates``, ``store.merge_persons``)."""

from __future__ import annotations

from typing import Any

import click

from fupin.cli._app import echo_json, pass_store
from fupin.ext import mask_id, table


@click.group("dedup")
def dedup_group() -> None:
    """Find and merge people registered twice (重复登记).

    \b
    Example:
      fupin dedup scan --village 530326106200
      fupin dedup merge 530326197001010119 530326197001010258 --reason "重复登记"
    """


@dedup_group.command("scan")
@click.option("--village", metavar="CODE", help="Only this village (12-digit code).")
@click.option("--min-score", type=click.FloatRange(0, 1), default=0.6, show_default=True,
              help="Leave out pairs scoring less.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--unmasked", is_flag=True, help="Show ID numbers in full (audited).")
@pass_store
def scan_command(store: Any, village: str | None, min_score: float, as_json: bool, unmasked: bool) -> None:
    """List likely duplicate people, most likely first.

    ID numbers are masked unless --unmasked (which leaves an audit entry).

    \b
    Example:
      fupin dedup scan --min-score 0.8 --json
    """
    if unmasked:
        store.access.require("registry.personal")
    found = store.find_duplicates(village=village, min_score=min_score)
    if unmasked:
        store.audit_event(
            "export", "persons", "dedup:scan",
            {"command": "dedup scan", "village": village, "min_score": min_score, "rows": len(found), "unmasked": True},
            reason="unmasked dedup scan",
        )
    if as_json:
        echo_json([c.to_dict(unmasked=unmasked) for c in found])
        return
    if not found:
        click.echo("未发现疑似重复 / no likely duplicates")
        return
    show = (lambda n: n) if unmasked else mask_id
    rows = [
        [f"{c.score:.2f}", show(c.keep), c.keep_name, c.keep_household, show(c.other), c.other_name,
         c.other_household, "; ".join(r.split(" / ")[0] for r in c.reasons)]
        for c in found
    ]
    headers = ["分数 score", "保留 keep", "姓名", "户编号", "疑似重复 other", "姓名", "户编号", "原因 reasons"]
    for line in table(headers, rows):
        click.echo(line)


@dedup_group.command("merge")
@click.argument("keep")
@click.argument("drop")
@click.option("--reason", default="", help="Why, for the audit log.")
@pass_store
def merge_command(store: Any, keep: str, drop: str, reason: str) -> None:
    """Fold the person DROP into KEEP: tags, actions and empty fields move over, DROP is deleted.

    \b
    Example:
      fupin dedup merge 530326197001010119 530326197001010258 --reason "重复登记"
    """
    result = store.merge_persons(keep, drop, reason=reason)
    parts = [f"{result.tags_moved} tags moved", f"{result.actions} actions repointed"]
    if result.filled:
        parts.append("filled " + ", ".join(result.filled))
    if result.conflicts:
        parts.append("conflicts kept " + ", ".join(result.conflicts))
    click.echo(
        f"已合并 / merged {mask_id(result.drop)} ({result.drop_name}) into "
        f"{mask_id(result.keep)} ({result.keep_name}): {'; '.join(parts)}"
    )
