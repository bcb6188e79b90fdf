"""``fupin record`` (one support action) and ``fupin show`` (one record)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from fupin import SupportAction, ValidationError, render_household_card
from fupin.cli._app import echo_json, pass_store
from fupin import yuan_to_fen


def _key_values(option: str, items: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"应写作 名称=值 / write it as NAME=VALUE: {item!r}", param_hint=option)
        key = key.strip()
        if key in out:  # a repeated key collects a list: --detail decisions=a --detail decisions=b
            out[key] = [*(out[key] if isinstance(out[key], list) else [out[key]]), value]
        else:
            out[key] = value
    return out


@click.command()
@click.argument("kind")
@click.option("--date", "start", metavar="DATE", help="First day (ISO 8601, e.g. 2016-03-15).")
@click.option("--end", metavar="DATE", help="Last day, if not the same day.")
@click.option("--unit", metavar="CODE", help="Registering unit (default: the actor's unit).")
@click.option("--plan", "plan_name", metavar="NAME", help="Plan the action counts for.")
@click.option("--helper", "helpers", multiple=True, metavar="CADRE", help="Cadre code (repeatable).")
@click.option(
    "--beneficiary", "beneficiaries", multiple=True, metavar="TYPE:REF",
    help="household:NUMBER, person:ID, unit:CODE or village:CODE (repeatable).",
)
@click.option("--quantity", "quantities", multiple=True, metavar="NAME=N", help="e.g. hours=6 (repeatable).")
@click.option("--amount", metavar="YUAN", help="Money given, in yuan (stored as integer fen).")
@click.option("--detail", "details", multiple=True, metavar="NAME=VALUE", help="A field of the kind's details (repeatable).")
@click.option("--title", default="", help="Short description.")
@click.option("--from", "from_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Read the action from a JSON file.")
@click.option("--json", "as_json", is_flag=True, help="Print the stored action as JSON.")
@pass_store
def record(store: Any, kind: str, start: str | None, end: str | None, unit: str | None, plan_name: str | None,
           helpers: tuple[str, ...], beneficiaries: tuple[str, ...], quantities: tuple[str, ...], amount: str | None,
           details: tuple[str, ...], title: str, from_file: Path | None, as_json: bool) -> None:
    """Record one support action of KIND, from options or a JSON file.

    Unknown kinds and invalid details are refused and nothing is stored.

    \b
    Example:
      fupin record core.goods --date 2016-01-20 --unit QJNU \\
        --beneficiary unit:TMC-XX --detail item=校服 --detail quantity=19 --amount 2850
      fupin record core.meeting --from meeting.json
    """
    action_kind = store.hooks.action_kind(kind)
    if from_file is not None:
        try:
            data = json.loads(from_file.read_text(encoding="utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValidationError.of(str(from_file), f"不是有效的 JSON / not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ValidationError.of(str(from_file), "应为 JSON 对象 / must be a JSON object")
        data.pop("kind", None)
        if "amount" in data:
            data["amount_fen"] = yuan_to_fen(str(data.pop("amount")))
        if "date" in data:
            data["start"] = data.pop("date")
        data.setdefault("unit", store.actor.unit)
        try:
            action = SupportAction.new(action_kind, vocab=store.vocab, **data)
        except TypeError as exc:
            raise ValidationError.of(str(from_file), f"未知字段 / unknown field: {exc}") from None
    else:
        if not start:
            raise click.UsageError("需要 --date 或 --from / --date or --from is required")
        action = SupportAction.new(
            action_kind,
            vocab=store.vocab,
            start=start,
            end=end,
            unit=unit or store.actor.unit,
            plan=plan_name,
            helpers=helpers,
            beneficiaries=beneficiaries,
            quantities=_key_values("--quantity", quantities),
            amount_fen=yuan_to_fen(amount) if amount else 0,
            details=_key_values("--detail", details) if action_kind.details else None,
            title=title,
        )
    stored = store.record_action(action)
    if as_json:
        echo_json(stored.to_dict())
    else:
        click.echo(f"已记录 / recorded: {stored.kind} #{stored.id} {stored.start.isoformat()}")


@click.group()
def show() -> None:
    """Show one record with everything recorded about it.

    \b
    Example:
      fupin show household 530326106200010001 --json
    """


@show.command("household")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@pass_store
def show_household(store: Any, number: str, as_json: bool, lang: str) -> None:
    """Show a household's 建档立卡 card: members, tags, status history and help received.

    ID numbers are masked (first 6 and last 4 characters kept).

    \b
    Example:
      fupin show household 530326106200010001
    """
    card = store.household_card(number)  # masked
    if as_json:
        echo_json(card.to_dict())
    else:
        click.echo(render_household_card(card, store.vocab, lang=lang))
