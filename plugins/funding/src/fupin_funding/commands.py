"""The ``fupin funding`` commands: balance, ledger, grant, share, aid-list, missing.

Each shows only the funds the user's unit owns or was granted (a platform
administrator's or auditor's scope ``all``: every fund). A permission denied
exits with code 3, as the design says of every command; refused input with 1.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

import click

from fupin.cli import pass_store, yuan_to_fen
from fupin.ext import mask_id, table, write_table

from fupin_funding import aid, ledger

PROGRAMME = click.Choice(sorted(ledger.PROGRAMMES))


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _write(rows: list[list[Any]], headers: list[str], fmt: str, output: str | None, title: str) -> None:
    if output:
        n = write_table(output, fmt, headers, rows, title=title)
        click.echo(f"{n} 行 / rows -> {output}")
    elif fmt == "xlsx":
        raise click.UsageError("xlsx 须用 -o 指定文件 / xlsx needs -o FILE")
    else:
        write_table(sys.stdout.buffer, fmt, headers, rows, title=title if fmt == "csv" else None)


@click.group()
def funding() -> None:
    """Funds (资金): the ledger in fen, balances, grants, aid lists to sign, who is still unpaid.

    \b
    Example:
      fupin funding balance
      fupin funding ledger --year 2017 --format xlsx -o 台账2017.xlsx
      fupin funding grant QJNU-FDN QJNU-STU --start 2017-03-01
      fupin funding aid-list --programme study_aid --year 2017 --format xlsx -o 助学金2017.xlsx
      fupin import funding.disbursements 助学金2017-签字.xlsx
      fupin funding missing --programme study_aid --year 2017
    """


@funding.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_store
def balance(store: Any, as_json: bool) -> None:
    """Each fund's balance (sum of its ledger lines), reconciled with its entries: the funds your unit owns or was granted.

    \b
    Example:
      fupin funding balance --json
    """
    rows = ledger.fund_balances(store)
    unbalanced = ledger.unbalanced(store)
    if as_json:
        _echo_json({"funds": rows, "unbalanced_entries": unbalanced})
        return
    body = [[r["fund"], r["name"], ledger.FUND_KINDS[r["kind"]], r["purpose"] or "", r["owner"] or "", ledger.yuan(r["balance_fen"]),
             "是" if r["reconciled"] else "否"] for r in rows]
    click.echo("\n".join(table(["账户 fund", "名称 name", "类型 kind", "用途 purpose", "单位 owner", "余额(元) balance", "相符 reconciled"],
                               body, indent="")))
    click.echo(f"合计 / total: {ledger.yuan(sum(r['balance_fen'] for r in rows))} 元")
    if unbalanced:
        raise click.ClickException(f"借贷不平的凭证 / unbalanced entries: {', '.join(unbalanced)}")


@funding.command("ledger")
@click.option("--year", type=int, required=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "jsonl"]), default="csv", show_default=True)
@click.option("-o", "--output", help="File to write (default: standard output; xlsx needs a file).")
@pass_store
def ledger_cmd(store: Any, year: int, fmt: str, output: str | None) -> None:
    """The year's 台账: every entry with date, voucher, fund, amount, purpose, who entered and approved it
    (of the funds your unit owns or was granted).

    \b
    Example:
      fupin funding ledger --year 2017 --format xlsx -o 台账2017.xlsx
    """
    rows = ledger.entries(store, dt.date(year, 1, 1), dt.date(year, 12, 31))
    headers = ["日期", "凭证号", "类型", "资金账户", "收入(元)", "支出(元)", "用途", "资助项目", "年度", "户编号", "项目编号", "捐赠人", "摘要", "经办人", "审批人"]
    body = [[r.entry_date, r.voucher, ledger.FLOWS[r.flow], r.fund_code,
             ledger.yuan(r.amount_fen) if r.flow in ledger.INFLOWS else None, None if r.flow in ledger.INFLOWS else ledger.yuan(r.amount_fen),
             r.purpose, r.programme, r.aid_year, r.household, r.project_code, r.donor, r.description, r.entered_by, r.approved_by] for r in rows]
    _write(body, headers, fmt, output, f"{year} 年扶贫资金台账")


@funding.command()
@click.argument("fund")
@click.argument("unit")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), help="First day the unit may book on the fund (default: today).")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), help="Last day (default: until further notice).")
@pass_store
def grant(store: Any, fund: str, unit: str, start: dt.datetime | None, end: dt.datetime | None) -> None:
    """Let UNIT (a department) book entries on FUND, which your unit owns (audited).

    Without a grant only the owning unit and its plan office spend a fund.

    \b
    Example:
      fupin funding grant QJNU-FDN QJNU-STU --start 2017-03-01 --end 2017-12-31
    """
    ledger.grant(store, fund, unit, start=start.date() if start else None, end=end.date() if end else None)
    until = f" 至 / until {end.date()}" if end else ""
    click.echo(f"已授权 / granted: {unit} -> {fund}, 自 / from {(start.date() if start else dt.date.today())}{until}")


@funding.command()
@click.option("--plan", "plan_name", required=True, help="The plan that gets a part of the fund or project.")
@click.option("--fund", help="The fund to share (one your unit owns).")
@click.option("--project", help="The project to share (one your unit owns).")
@click.option("--amount", type=str, required=True, help="The amount that is the plan's, in yuan (元), e.g. 50000 or 50000.00.")
@click.option("--on", type=click.DateTime(["%Y-%m-%d"]), help="The day it was agreed (default: today).")
@click.option("--note", default="", help="Why (the agreement).")
@pass_store
def share(store: Any, plan_name: str, fund: str | None, project: str | None, amount: str, on: dt.datetime | None, note: str) -> None:
    """Share a fund or project of your unit with another plan: AMOUNT of it counts for that plan (audited).

    A plan counts only its own funds and projects (of its units, naming it)
    and those shared with it: a shared budget fund up to the amount, a shared
    project with the amount as its budget.

    \b
    Example:
      fupin funding share --plan ynu-faji --fund QJNU-B2017 --amount 50000
    """
    ledger.share(store, plan_name, yuan_to_fen(amount), fund=fund, project=project, on=on.date() if on else None, note=note)
    click.echo(f"已共享 / shared: {fund or project} -> {plan_name}, {amount} 元")


@funding.command("aid-list")
@click.option("--programme", type=PROGRAMME, required=True)
@click.option("--year", type=int, required=True)
@click.option("--fund", help="The fund to pay from (filled into every row).")
@click.option("--plan", "plan_name", help="Plan name (default: the only stored plan).")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "jsonl"]), default="xlsx", show_default=True)
@click.option("-o", "--output", help="File to write.")
@pass_store
def aid_list_cmd(store: Any, programme: str, year: int, fund: str | None, plan_name: str | None, fmt: str, output: str | None) -> None:
    """The payment list to sign, from the registry: everyone eligible and not yet paid.

    Fill in 发放日期 and 审批人 (UNIT:USER of someone else who holds
    funding.approve) and have each recipient sign (领款人签字), then
    `fupin import funding.disbursements FILE`: you are its 经办人. Voucher
    numbers are ZXJ2017-QJNU-000001 ...: no ID number in them.
    """
    plan = store.plan(plan_name)
    rows = aid.aid_list(store, plan, programme, year, fund)
    headers = ["凭证号", "资助项目", "年度", "身份证号", "户编号", "姓名", "金额", "资金账户", "发放日期", "审批人", "领款人签字", "摘要"]
    body = [[r["voucher"], r["programme"], r["aid_year"], r["person"], r["household"], r["name"], ledger.yuan(r["amount_fen"]).replace(",", ""),
             r["fund_code"], None, None, None, r["detail"]] for r in rows]
    if not output and fmt == "xlsx":
        output = f"{programme}-{year}.xlsx"
    _write(body, headers, fmt, output, f"{year} 年{ledger.PROGRAMMES[programme][0]}发放表")


@funding.command()
@click.option("--programme", type=PROGRAMME, required=True)
@click.option("--year", type=int, required=True)
@click.option("--plan", "plan_name", help="Plan name (default: the only stored plan).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--unmasked", is_flag=True, help="Show ID numbers in full (needs registry.personal).")
@pass_store
def missing(store: Any, programme: str, year: int, plan_name: str | None, as_json: bool, unmasked: bool) -> None:
    """Who is eligible for the programme in the year and has no disbursement (ID numbers masked unless --unmasked)."""
    plan = store.plan(plan_name)
    rows = aid.missing(store, plan, programme, year)
    if unmasked:
        store.access.require("registry.personal")
    else:
        # A person's key is their ID number: masked like every display (a household's key is its number).
        rows = [{**r, "key": mask_id(r["key"])} if r["key"] != r["household"] else r for r in rows]
    if as_json:
        _echo_json(rows)
        return
    click.echo(f"{ledger.PROGRAMMES[programme][0]} {year}: {len(rows)} 未发放 / unpaid (发放日 / due {aid.due_day(plan, programme, year)})")
    if rows:
        click.echo("\n".join(table(["编号 key", "姓名 name", "户 household", "说明 detail"], [[r["key"], r["name"], r["household"], r["detail"]] for r in rows], indent="")))
