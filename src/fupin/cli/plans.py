"""``fupin plan``: show, list, load and lint plans."""

from __future__ import annotations

from typing import Any

import click

from fupin.cli._app import Context, echo_json, pass_store


@click.group()
def plan() -> None:
    """Plans (实施方案) and their commitments.

    \b
    Example:
      fupin plan list
      fupin plan show qjnu-tuomu --lang en
    """


@plan.command("show")
@click.argument("name", required=False, default="qjnu-tuomu", metavar="[NAME|FILE]")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.pass_obj
def plan_show(obj: Context, name: str, as_json: bool, lang: str) -> None:
    """Print a plan: a packaged plan by name, or a TOML file.

    The commitments' parameters are checked against the installed targets
    first: an unknown or mistyped one is refused naming file, commitment and key.

    \b
    Example:
      fupin plan show qjnu-tuomu
      fupin plan show ./my-plan.toml --json
    """
    from fupin import Hooks, load_plan, render_plan, validate_plan

    loaded = load_plan(name)
    validate_plan(loaded, Hooks(obj.pm))
    if as_json:
        echo_json(loaded.to_dict())
    else:
        click.echo(render_plan(loaded, lang=lang))


@plan.command("list")
def plan_list() -> None:
    """List the plans shipped with fupin."""
    from fupin import load_plan, packaged_plans

    for name in packaged_plans():
        click.echo(f"{name}\t{load_plan(name).title_zh}")


@plan.command("load")
@click.argument("name", metavar="NAME|FILE")
@pass_store
def plan_load(store: Any, name: str) -> None:
    """Store a plan in the database so actions can count for it.

    \b
    Example:
      fupin plan load ./my-plan.toml
    """
    from fupin import load_plan

    loaded = load_plan(name)
    store.save_plan(loaded)
    click.echo(f"已载入方案 / plan loaded: {loaded.name}")


@plan.command("lint")
@click.argument("name", required=False, default="qjnu-tuomu", metavar="[NAME|FILE]")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as a JSON list.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.pass_obj
def plan_lint(obj: Context, name: str, as_json: bool, lang: str) -> None:
    """Report where a plan contradicts itself, with the arithmetic.

    Exits 0 when there are only warnings (contradictions), 1 when a stated
    figure cannot be checked at all (an error).

    \b
    Example:
      fupin plan lint
      fupin plan lint ./my-plan.toml --lang en
      fupin plan lint qjnu-tuomu --json
    """
    from fupin import Hooks, lint_plan, load_plan, render_findings

    loaded = load_plan(name)
    findings = lint_plan(loaded, Hooks(obj.pm))
    if as_json:
        echo_json([f.to_dict() for f in findings])
    else:
        click.echo(render_findings(findings, lang=lang, plan_name=loaded.name))
    if any(f.severity == "error" for f in findings):
        raise SystemExit(1)
