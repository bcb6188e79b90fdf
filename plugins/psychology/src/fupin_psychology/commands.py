"""The ``fupin psychology`` commands. None of them prints a note except ``note``, which needs a reason."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from fupin.cli import pass_store
from fupin.ext import table

from fupin_psychology import crypto, keys, records

def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@click.group()
def psychology() -> None:
    """Counselling of special groups and social work (心理疏导与社会工作, C32 and C33).

    Session notes are encrypted with the key in FUPIN_PSYCHOLOGY_KEY, only
    with the database's key (checked by its fingerprint); reading one needs
    psychology.read and a stated reason, and is audited. Exit codes: 1 refused
    input or a key that is not the database's, 3 permission denied, 4 no usable
    key in the environment.

    \b
    Example:
      fupin psychology roster --group 留守儿童 --year 2017
      fupin psychology sessions --year 2017
      fupin psychology note PSY-2017-0012 --reason "回访前了解上次情况"
      FUPIN_NEW_KEY=... fupin psychology rekey --new-key-env FUPIN_NEW_KEY --reason "咨询师离职"
    """


@psychology.command()
@click.argument("ref")
@click.option("--reason", help="Why the note is read (required; kept in the audit log).")
@pass_store
def note(store: Any, ref: str, reason: str | None) -> None:
    """Show the note of session REF: needs psychology.read and --reason; audited.

    \b
    Example:
      fupin psychology note PSY-2017-0012 --reason "转介医院前核对情况"
    """
    text = records.read_note(store, ref, reason)
    click.echo(text if text else f"{ref}: 没有记录内容 / no note recorded")


@psychology.command()
@click.option("--year", type=int, required=True, help="Sessions held in this year.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_store
def sessions(store: Any, year: int, as_json: bool) -> None:
    """The counselling sessions of a year (no names, no notes): needs psychology.read."""
    rows = records.sessions_in(store, year)
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo(f"{year} 年没有疏导记录 / no sessions in {year}")
        return
    headers = ["编号 ref", "日期 date", "方式 mode", "疏导人 counsellor", "人数 persons", "风险 risk", "转介 referral", "回访 follow-up", "同意 consent", "记录 note"]
    body = [[r["ref"], r["date"], r["mode"], r["counsellor"], str(r["persons"]), r["risk_level"] or "-", r["referral"] or "-",
             r["follow_up"] or "-", "是" if r["consent"] else "-", "加密 encrypted" if r["has_note"] else "-"] for r in rows]
    click.echo("\n".join(table(headers, body, indent="")))
    click.echo(f"合计 / total: {len(rows)}")


@psychology.command()
@click.option("--year", type=int, help="Cases open at some time in this year.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_store
def cases(store: Any, year: int | None, as_json: bool) -> None:
    """Social-work cases: goals, steps, status (needs psychology.read)."""
    rows = records.cases_in(store, year)
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo("没有社会工作个案 / no social-work cases")
        return
    headers = ["编号 ref", "户 household", "社工 worker", "开案 opened", "结案 closed", "状态 status", "目标 goals", "步骤 steps"]
    body = [[r["ref"], r["household"], r["worker"], r["opened"], r["closed"] or "-", r["status"], "、".join(r["goals"]), str(len(r["steps"]))]
            for r in rows]
    click.echo("\n".join(table(headers, body, indent="")))


@psychology.command()
@click.option("--group", required=True, help="The special group: 留守儿童, 空巢老人 ...")
@click.option("--year", type=int, required=True)
@click.option("--plan", "plan_name", help="The plan (default: the only one stored).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_store
def roster(store: Any, group: str, year: int, plan_name: str | None, as_json: bool) -> None:
    """The yearly roster of a special group in the plan's villages.

    Names (with masked ID numbers) only for users with psychology.read over the
    plan; otherwise the counts, with 1 to 4 shown as <5.
    """
    data = records.roster(store, store.plan(plan_name), group, year)
    if as_json:
        _echo_json(data)
        return
    click.echo(f"{data['group']} {year}: 在册 {data['persons']} 人, 已疏导 {data['counselled']} 人 / "
               f"{data['persons']} on the roster, {data['counselled']} counselled")
    if "roster" in data and data["roster"]:
        headers = ["姓名 name", "证件号码 ID", "年龄 age", "户 household", "疏导次数 sessions"]
        body = [[r["name"], r["id_number"], str(r["age"] or "-"), r["household"], str(r["sessions"])] for r in data["roster"]]
        click.echo("\n".join(table(headers, body, indent="")))


@psychology.command()
@click.option("--new-key-env", "new_key_env", required=True, metavar="NAME",
              help="The environment variable holding the new key (the old one stays in FUPIN_PSYCHOLOGY_KEY).")
@click.option("--reason", help="Why the key is changed (required; kept in the audit log).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_store
def rekey(store: Any, new_key_env: str, reason: str | None, as_json: bool) -> None:
    """Re-encrypt every session note with a new key, in one transaction (needs psychology.rekey).

    The old key is read from FUPIN_PSYCHOLOGY_KEY and must be the database's;
    the new one from the variable --new-key-env names (a key is never given on
    the command line, where shell histories and process lists would keep it).
    Either every note is re-encrypted and the new key's fingerprint stored, or
    nothing changes. Audited with the reason; no key or note is ever printed.
    Afterwards put the new key in FUPIN_PSYCHOLOGY_KEY.

    \b
    Example:
      export FUPIN_NEW_KEY="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
      fupin psychology rekey --new-key-env FUPIN_NEW_KEY --reason "咨询师离职, 更换密钥"
    """
    if new_key_env.strip() == crypto.KEY_ENV:
        raise click.UsageError(f"--new-key-env 须是另一个环境变量 / --new-key-env must name a variable other than {crypto.KEY_ENV}")
    done = keys.rekey(store, os.environ.get(new_key_env, ""), reason, new_key_env)
    if as_json:
        _echo_json(done.to_dict())
        return
    click.echo(f"已用新密钥重新加密 {done.notes} 条疏导记录, 密钥指纹 {done.new_fingerprint} / "
               f"{done.notes} notes re-encrypted with the new key, fingerprint {done.new_fingerprint}")
    click.echo(f"请将 {crypto.KEY_ENV} 改为 {new_key_env} 中的新密钥 / now set {crypto.KEY_ENV} to the new key in {new_key_env}")
