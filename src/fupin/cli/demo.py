"""``fupin synth`` (synthetic households) and ``fupin demo`` (the reference village, played)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from fupin.cli._app import Context, progress


@click.command()
@click.option("--households", "-n", type=click.IntRange(min=1), required=True, help="How many households.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same data.")
@click.option("--county", default="530326", show_default=True, help="County code for the synthetic areas and ID numbers.")
@click.option("--since", default="2014-10-01", show_default=True, help="Date the households were first identified.")
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Write import files (areas, households, persons, tags) into this folder instead of the database.")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True,
              help="File format with --output.")
@click.pass_obj
def synth(obj: Context, households: int, seed: int, county: str, since: str, output: Path | None, fmt: str) -> None:
    """Generate deterministic synthetic households and people with valid ID numbers.

    Creates synthetic towns, villages and villager groups under the county,
    then the households and their members, in the database or, with --output,
    as files `fupin import` reads (a synthetic province for benchmarks). The
    same seed always gives the same records.

    \b
    Example:
      fupin --db sqlite:///bench.db synth --households 1000 --seed 7
      fupin synth --households 250000 --output province/
    """
    from fupin import Synthesizer

    gen = Synthesizer(seed=seed, county_code=county, first_identified=dt.date.fromisoformat(since))
    if output is not None:
        with progress("合成 / synthesising") as report:
            counts = gen.write_files(output, households=households, format=fmt, progress=report)
        click.echo(f"已写入 / written to {output}: " + ", ".join(f"{name} {n}" for name, n in counts.items()))
        return
    store = obj.store()
    with progress("合成 / synthesising") as report:
        counts = gen.write(store, households=households, progress=report)
    click.echo(f"已生成 / generated: {counts['households']} 户 households, {counts['persons']} 人 persons, {counts['areas']} 区划 areas")


@click.command()
@click.option("--force", is_flag=True, help="Empty a non-empty database first (its records and history are lost).")
@click.option("--plan", "plan_name", default="qjnu-tuomu", show_default=True, metavar="NAME|FILE")
@click.option("--seed", type=int, default=2015, show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--register-only", is_flag=True, help="Build the village and its register only: no simulated years.")
@click.pass_obj
def demo(obj: Context, force: bool, plan_name: str, seed: int, lang: str, register_only: bool) -> None:
    """Build the reference village from a plan, play the plan's years, and print the report.

    The village and its register come from the plan; pairings, visits with
    questionnaire answers, diary entries, cases and exits are simulated for
    every year of the plan (deterministic for --seed), then every commitment
    is checked year by year and the last year's report is printed, shortfalls
    included. Refuses a non-empty database unless --force is given.

    \b
    Example:
      fupin --db sqlite:///tuomu.db demo
    """
    from fupin import build_demo, play_demo, render_demo_summary, render_played

    store = obj.store(init=True)
    if store.is_empty():
        store.init()
    elif force:
        store.reset()
    else:
        raise click.ClickException(
            f"数据库不是空的 / the database is not empty: {store.url} (use --force to empty it, or another --db)"
        )
    with progress("演示建村 / demo: register") as report:
        summary = build_demo(store, plan_name, seed=seed, progress=report)
    click.echo(render_demo_summary(summary, lang=lang))
    if register_only:
        return
    with progress("演示模拟 / demo: play the years") as report:
        played = play_demo(store, summary.plan, seed=seed, progress=report)
    click.echo("")
    click.echo(render_played(store, summary.plan, played, lang=lang))
