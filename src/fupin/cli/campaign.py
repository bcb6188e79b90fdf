"""Commands of the 挂包帮 / 转走访 work: ``pair``, ``visits``, ``case``, ``check``, ``exit``, ``report``.

Thin wrappers over the store's platform API (``store.auto_pair``, ``store.pairings``,
``store.worklist``, ``store.check``, ``store.assess_exits``, ``store.report`` ...) and
:func:`fupin.render_report`. Visits, diary entries, cases and
pairing lists are imported in batch with ``fupin import visits|diary|cases|pairings FILE``.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
from pathlib import Path
from typing import Any

import click

from fupin import NotFound, Pairing, Status, render_overview, render_overview_bytes, render_report, render_report_bytes
from fupin.cli._app import echo_json, pass_store
from fupin.ext import table

_PLAN = click.option("--plan", "plan_name", metavar="NAME", help="The stored plan (default: the only one stored).")
_LANG = click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _date(text: str | None, default: dt.date | None = None) -> dt.date:
    if text is None:
        return default or dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"不是日期 / not an ISO date (YYYY-MM-DD): {text}") from None


# -- pair -------------------------------------------------------------------------------------------


@click.group("pair")
def pair() -> None:
    """挂包帮 pairings: cadres with households (帮户), leaders and units with villages.

    \b
    Example:
      fupin pair auto --date 2015-08-20
      fupin pair list --cadre QJNU-C001
      fupin pair transfer QJNU-C001 --to QJNU-C049 --date 2017-03-01 --reason "调离 / transferred"
    """


@pair.command("auto")
@_PLAN
@click.option("--date", "on", metavar="DATE", help="Start date of the new pairings (default today).")
@click.option("--dry-run", is_flag=True, help="Show what would be paired; write nothing.")
@_JSON
@pass_store
def pair_auto(store: Any, plan_name: str | None, on: str | None, dry_run: bool, as_json: bool) -> None:
    """Pair every unpaired poor household with the plan's cadres, within the quotas (C08).

    Key-help goes to the neediest households by the documented rule
    (fupin.pairing.need_key: safety-net attribute, illness or disability,
    dilapidated house, no safe water, lowest income); a cadre's households are
    kept together by villager group where possible. Places that cannot be
    filled and households left without a cadre are reported (exit 1).

    \b
    Example:
      fupin pair auto --date 2015-08-20 --dry-run
    """
    result = store.auto_pair(store.plan(plan_name), on=_date(on), dry_run=dry_run)
    if as_json:
        echo_json(result.to_dict())
    else:
        verb = "将结对 / would pair" if dry_run else "已结对 / paired"
        click.echo(f"{verb}: {len(result.created)}")
        for code, kind, n in result.unfilled:
            click.echo(f"  ! 干部 {code} 的{kind}名额空 {n} 个 (户数不足) / {n} {kind} places of cadre {code} left empty: too few households")
        if result.unpaired:
            click.echo(f"  ! {len(result.unpaired)} 户贫困户没有干部 (名额不足) / poor households left without a cadre (too few places):")
            shown = " ".join(result.unpaired[:12])
            click.echo(f"    {shown}{' …' if len(result.unpaired) > 12 else ''} (--json 列出全部 / lists all)")
        for code in result.skipped_cadres:
            click.echo(f"  - 干部 {code} 的职级在方案中没有定额, 未参与 / rank has no quota in the plan, not paired")
    if result.unfilled or result.unpaired:
        raise SystemExit(1)


@pair.command("list")
@click.option("--cadre", metavar="CODE")
@click.option("--household", metavar="NUMBER")
@click.option("--on", "active_on", metavar="DATE", help="Only pairings in force on this day.")
@click.option("--all", "history", is_flag=True, help="History included (default: in force today).")
@_JSON
@pass_store
def pair_list(store: Any, cadre: str | None, household: str | None, active_on: str | None, history: bool, as_json: bool) -> None:
    """List pairings (in force today unless --on or --all).

    \b
    Example:
      fupin pair list --cadre QJNU-C001
      fupin pair list --household 530326106200010001 --all
    """
    on = None if history else _date(active_on)
    rows = store.pairings(cadre=cadre, household=household, active_on=on)
    if as_json:
        echo_json([r.to_dict() for r in rows])
        return
    lines = table(
        ["编号", "层级", "干部", "户/村", "户主", "类型", "开始", "结束"],
        [[str(r.id), r.level, r.cadre or r.unit or "-", r.household or r.village or "-", r.head_name or "-", r.kind or "-",
          r.start.isoformat(), r.end.isoformat() if r.end else "-"] for r in rows],
    )
    click.echo("\n".join(lines))


@pair.command("add")
@click.option("--cadre", metavar="CODE")
@click.option("--household", metavar="NUMBER")
@click.option("--kind", metavar="KIND", help="重点帮扶 or 联系 (for a household).")
@click.option("--village", metavar="CODE", help="For 挂点 (a leader) or 包村 (a unit).")
@click.option("--unit", metavar="CODE", help="For 包村.")
@click.option("--level", default="帮户", show_default=True, metavar="LEVEL", help="帮户, 挂点 or 包村.")
@click.option("--date", "on", metavar="DATE", help="Start date (default today).")
@_PLAN
@pass_store
def pair_add(store: Any, cadre: str | None, household: str | None, kind: str | None, village: str | None, unit: str | None,
             level: str, on: str | None, plan_name: str | None) -> None:
    """Add one pairing.

    \b
    Example:
      fupin pair add --cadre QJNU-C001 --household 530326106200010001 --kind 重点帮扶 --date 2015-08-20
      fupin pair add --level 挂点 --cadre QJNU-C001 --village 530326106200
    """
    record = Pairing.new(vocab=store.vocab, level=level, start=_date(on), cadre=cadre, household=household, kind=kind,
                         village=village, unit=unit, plan=plan_name)
    click.echo(f"结对编号 / pairing id: {store.pair(record)}")


@pair.command("end")
@click.argument("pairing_id", type=int)
@click.option("--date", "on", metavar="DATE", help="Last day it holds (default today).")
@click.option("--reason", required=True, help="Why it ends.")
@pass_store
def pair_end(store: Any, pairing_id: int, on: str | None, reason: str) -> None:
    """End a pairing on purpose, saying why (history is kept).

    \b
    Example:
      fupin pair end 17 --date 2016-12-31 --reason "户迁出 / household moved away"
    """
    store.end_pairing(pairing_id, _date(on), reason)
    click.echo(f"已解除 / ended: {pairing_id}")


@pair.command("transfer")
@click.argument("from_cadre", metavar="CADRE")
@click.option("--to", "to_cadre", required=True, metavar="CADRE", help="The cadre who takes the households over.")
@click.option("--date", "on", metavar="DATE", help="First day of the new pairings (default today).")
@click.option("--reason", default="干部调整 / cadre changed", show_default=True)
@_PLAN
@pass_store
def pair_transfer(store: Any, from_cadre: str, to_cadre: str, on: str | None, reason: str, plan_name: str | None) -> None:
    """Move a leaving cadre's households to another cadre in one step.

    \b
    Example:
      fupin pair transfer QJNU-C001 --to QJNU-C049 --date 2017-03-01
    """
    try:
        plan = store.plan(plan_name)
    except NotFound:  # no plan stored: no quota to warn about
        plan = None
    result = store.transfer(from_cadre, to_cadre, on=_date(on), reason=reason, plan=plan)
    click.echo(f"已转移 {len(result.moved)} 个结对 / pairings moved: {from_cadre} -> {to_cadre}")
    for w in result.warnings:
        click.echo(f"  ! {w}")


# -- visits and cases -------------------------------------------------------------------------------


@click.group("visits")
def visits() -> None:
    """转走访 visits: the worklist of households due or overdue.

    Visits, diary entries and cases are recorded in batch: fupin import visits FILE.

    \b
    Example:
      fupin visits due --cadre QJNU-C001 --as-of 2016-11-01
    """


@visits.command("due")
@click.option("--cadre", metavar="CODE", help="One cadre's worklist.")
@click.option("--as-of", "as_of", metavar="DATE", help="The day (default today).")
@_PLAN
@_JSON
@pass_store
def visits_due(store: Any, cadre: str | None, as_of: str | None, plan_name: str | None, as_json: bool) -> None:
    """Households due or overdue for a visit (the definition is in fupin.visits).

    \b
    Example:
      fupin visits due --as-of 2016-12-01 --json
    """
    items = store.worklist(store.plan(plan_name), as_of=_date(as_of), cadre=cadre)
    if as_json:
        echo_json([i.to_dict() for i in items])
        return
    overdue = sum(1 for i in items if i.status == "overdue")
    click.echo(f"应访 {len(items)} 户, 其中逾期 {overdue} 户 / {len(items)} households due, {overdue} overdue")
    rows = [[i.household, i.head_name, "、".join(i.cadres) or "-", "逾期" if i.status == "overdue" else "待访", i.due_by.isoformat(),
             i.last_visit.isoformat() if i.last_visit else "-", str(i.days_overdue)] for i in items]
    click.echo("\n".join(table(["户编号", "户主", "帮扶干部", "状态", "期限", "上次走访", "逾期天数"], rows)))


@click.group("case")
def case() -> None:
    """Cases (grievances, disputes, requests): close one with its resolution.

    \b
    Example:
      fupin case close K-2016-001 --date 2016-03-02 --resolution "已调解 / mediated"
    """


@case.command("close")
@click.argument("ref")
@click.option("--date", "on", metavar="DATE", help="Closing date (default today).")
@click.option("--resolution", required=True)
@pass_store
def case_close(store: Any, ref: str, on: str | None, resolution: str) -> None:
    """Close a case."""
    store.close_case(ref, closed=_date(on), resolution=resolution)
    click.echo(f"已办结 / closed: {ref}")


# -- check, exit, report ------------------------------------------------------------------------------


@click.command("check")
@click.option("--year", type=int, required=True)
@click.option("--as-of", "as_of", metavar="DATE", help="Check as on this day (default today): later deadlines are not yet due.")
@_PLAN
@_JSON
@_LANG
@pass_store
def check(store: Any, year: int, as_of: str | None, plan_name: str | None, as_json: bool, lang: str) -> None:
    """Check every measurable commitment of the plan for a year; exit 1 if any is not met.

    \b
    Example:
      fupin check --year 2016
      fupin check --year 2016 --json
    """
    plan = store.plan(plan_name)
    results = store.check(plan, year, as_of=_date(as_of))
    if as_json:
        echo_json([r.to_dict() for r in results])
    else:
        titles = {c.id: c.title(lang) for c in plan.commitments}
        # Chinese first then English ("中文 / English"); --lang en: English only.
        said = (lambda r, name: r.text(name, "en")) if lang == "en" else (lambda r, name: r.both(name))
        rows = [[r.commitment, r.status.label(lang), titles.get(r.commitment, "")[:24], said(r, "required"), said(r, "actual"), str(len(r.evidence))]
                for r in results]
        head = ["编号", "状态", "承诺", "要求", "实际", "证明"] if lang == "zh" else ["id", "status", "commitment", "required", "actual", "evidence"]
        click.echo("\n".join(table(head, rows)))
        notes: dict[str, list[str]] = {}  # each note once, with the commitments not met it applies to
        for r in results:
            if r.note and r.status is not Status.MET:
                notes.setdefault(said(r, "note"), []).append(r.commitment)
        for note, ids in notes.items():
            click.echo(f"  {', '.join(ids)}: {note}")
    if any(r.status is Status.NOT_MET for r in results):
        raise SystemExit(1)


@click.group("exit")
def exit_group() -> None:
    """Exit from poverty (C37): assess households and record exits with their evidence.

    \b
    Example:
      fupin exit assess --year 2017
      fupin exit record 530326106200010001 --year 2017 --date 2017-12-20
    """


@exit_group.command("assess")
@click.option("--year", type=int, required=True)
@click.option("--all", "show_all", is_flag=True, help="Also list households that do not pass, with reasons.")
@_PLAN
@_JSON
@pass_store
def exit_assess(store: Any, year: int, show_all: bool, plan_name: str | None, as_json: bool) -> None:
    """Propose exits: poor households above the year's line with 两不愁三保障 from their latest visit.

    \b
    Example:
      fupin exit assess --year 2017 --all
    """
    found = store.assess_exits(store.plan(plan_name), year)
    if as_json:
        echo_json([a.to_dict() for a in found])
        return
    passed = [a for a in found if a.passed]
    click.echo(f"{year}: 可脱贫 {len(passed)} 户 / {len(found)} 户未脱贫户中 / {len(passed)} of {len(found)} poor households can exit")
    for a in found if show_all else passed:
        income = "-" if a.income_per_capita_fen is None else f"{a.income_per_capita_fen / 100:.2f}"
        verdict = "可脱贫 / proposed" if a.passed else "; ".join(a.reasons)
        click.echo(f"  {a.household} {a.head_name} {income}/{a.line_fen / 100:.0f} 元: {verdict}")


@exit_group.command("record")
@click.argument("numbers", nargs=-1, required=True, metavar="NUMBER...")
@click.option("--year", type=int, required=True)
@click.option("--date", "on", metavar="DATE", help="Effective date of the exit (default today).")
@_PLAN
@pass_store
def exit_record(store: Any, numbers: tuple[str, ...], year: int, on: str | None, plan_name: str | None) -> None:
    """Record exits after assessing each household again; one that does not pass is refused with its reasons.

    \b
    Example:
      fupin exit record 530326106200010001 530326106200010002 --year 2017 --date 2017-12-20
    """
    plan = store.plan(plan_name)
    with store.transaction("exits.write"):  # all or none
        for number in numbers:
            store.record_exit(number, year, on=_date(on), plan=plan)
    click.echo(f"已记录脱贫 {len(numbers)} 户 / exits recorded")


@click.command("report")
@click.option("--year", type=int, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html", "docx", "xlsx"]), default="text", show_default=True,
              help="docx (Word) and xlsx (Excel) are files: give -o FILE.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="Write to FILE (audited; an export is not a publication, C36); '-' for stdout when it is not a terminal.")
@click.option("--as-of", "as_of", metavar="DATE", help="Report as on this day (default: the year's last day, or today while the year runs).")
@_PLAN
@click.option("--all-plans", "all_plans", is_flag=True,
              help="Every plan you may read: a summary table and charts comparing them, then each plan's report.")
@_LANG
@pass_store
def report(
    store: Any, year: int, fmt: str, output: Path | None, as_of: str | None, plan_name: str | None, all_plans: bool, lang: str
) -> None:
    """The yearly report: profile, pairing and visit coverage, commitments, cadre sheets, plugins' sections.

    \b
    Example:
      fupin report --year 2016 --format html -o tuomu-2016.html
      fupin report --year 2016 --format docx -o tuomu-2016.docx
      fupin report --year 2016 --format xlsx --lang en -o tuomu-2016.xlsx
      fupin report --year 2016 --lang en
      fupin report --year 2016 --all-plans
      fupin report --year 2016 --all-plans --format docx -o plans-2016.docx
    """
    if all_plans and plan_name is not None:
        raise click.UsageError("--all-plans 与 --plan 不能同时使用 / --all-plans and --plan exclude each other")
    binary = fmt in ("docx", "xlsx")
    to_stdout = output is None or str(output) == "-"
    if binary and (output is None or (to_stdout and sys.stdout.isatty())):
        raise click.UsageError(f"--format {fmt} 是文件, 请用 -o FILE / --format {fmt} writes a file: give -o FILE")
    day = _date(as_of) if as_of else None
    if all_plans:
        overview = store.overview(year, as_of=day)
        text: Any = functools.partial(render_overview, overview)
        data: Any = functools.partial(render_overview_bytes, overview)
        target, extra = "*", {"all_plans": True}
    else:
        plan = store.plan(plan_name)
        yearly = store.report(plan, year, as_of=day)
        text, data = functools.partial(render_report, yearly), functools.partial(render_report_bytes, yearly)
        target, extra = plan.name, {}
    if to_stdout:
        if binary:
            sys.stdout.flush()
            sys.stdout.buffer.write(data(fmt, lang))
            sys.stdout.buffer.flush()
        else:
            click.echo(text(fmt, lang))
        return
    assert output is not None
    output.write_bytes(data(fmt, lang))
    store.audit_event("report", "plans", target, {"year": year, "format": fmt, "file": output.name, "lang": lang, **extra})
    click.echo(f"已写入 / written: {output}", err=True)


COMMANDS = (pair, visits, case, check, exit_group, report)
