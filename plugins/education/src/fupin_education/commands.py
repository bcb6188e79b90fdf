"""The ``fupin education`` commands."""

from __future__ import annotations

import json
from typing import Any

import click

from fupin.cli import pass_store
from fupin.ext import table

from fupin_education import records


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@click.group()
def education() -> None:
    """Education stream (教育帮扶): teachers trained, internships, 三下乡 teams.

    \b
    Example:
      fupin education teachers --school 者海镇一中
      fupin education internships --year 2017
      fupin education teams --year 2017 --json
    """


@education.command()
@click.option("--school", help="Only the teachers of this school (name or unit code).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_store
def teachers(store: Any, school: str | None, as_json: bool) -> None:
    """Each teacher's training hours by year: the continuing-education record (继续教育学时).

    Counts the hours of the programmes at the university (C23) and of the
    training sessions in the town (C24) each teacher took part in; a teacher
    is known by name and school.

    \b
    Example:
      fupin education teachers
      fupin education teachers --school 拖木村小学 --json
    """
    rows = records.teacher_hours(store, school)
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo("没有受训教师记录 / no teachers trained" + (f" ({school})" if school else ""))
        return
    years = sorted({y for r in rows for y in r["hours_by_year"]})
    headers = ["教师 teacher", "学校 school", *[str(y) for y in years], "合计 total", "次数 records"]
    body = [[r["teacher"], r["school"], *[str(r["hours_by_year"].get(y, "")) for y in years], str(r["total_hours"]), str(len(r["records"]))]
            for r in rows]
    click.echo("继续教育学时 / training hours by year")
    click.echo("\n".join(table(headers, body, indent="")))


@education.command()
@click.option("--year", type=int, required=True, help="Internships starting in this year.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_store
def internships(store: Any, year: int, as_json: bool) -> None:
    """The teaching internships (教育实习) starting in a year, by host school and term.

    \b
    Example:
      fupin education internships --year 2017
    """
    rows = records.internships_in(store, year)
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo(f"{year} 年没有教育实习记录 / no internships in {year}")
        return
    headers = ["编号 ref", "实习生 student", "学科 subject", "实习学校 school", "学期 term", "指导教师 mentor",
               "带队教师 supervisor", "起止 dates", "授课 lessons", "评价 evaluation"]
    body = [[r["ref"], r["student"], r["subject"], r["host_school"], r["term"], r["mentor"], r["supervisor"],
             f"{r['start']}~{r['end']}", str(r["lessons"]), r["evaluation"] or "-"] for r in rows]
    click.echo("\n".join(table(headers, body, indent="")))
    by_school: dict[str, int] = {}
    for r in rows:
        by_school[r["host_school"]] = by_school.get(r["host_school"], 0) + 1
    click.echo("合计 / total: " + ", ".join(f"{s} {n}" for s, n in sorted(by_school.items())))


@education.command()
@click.option("--year", type=int, required=True, help="Teams that set out in this year.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_store
def teams(store: Any, year: int, as_json: bool) -> None:
    """The 三下乡 teams of a year: vacation, members, activities by type, people served.

    \b
    Example:
      fupin education teams --year 2018
    """
    rows = records.teams_in(store, year)
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo(f"{year} 年没有三下乡服务团记录 / no 三下乡 teams in {year}")
        return
    headers = ["编号 ref", "服务团 team", "假期 vacation", "带队 supervisor", "队员 members", "起止 dates", "活动 activities", "服务人次 served"]
    body = [[r["ref"], r["team"], r["vacation"], r["supervisor"], str(r["members"]), f"{r['start']}~{r['end']}",
             "、".join(f"{k}{v}" for k, v in r["activities"].items()), str(r["people_served"])] for r in rows]
    click.echo("\n".join(table(headers, body, indent="")))
    click.echo(f"合计 / total: {len({r['team'] for r in rows})} 支服务团 teams, {sum(r['people_served'] for r in rows)} 人次 served")
