"""The ``fupin`` command line (click): a thin layer over the library.

``make_cli(pm)`` builds the command group for a plugin manager, so tests build
one per test and plugins add their commands through ``fupin_register_commands``.
Whatever goes wrong after the options are parsed becomes one line on stderr and
an exit status (:func:`failure`; the exit codes are listed in ``fupin --help``
and the README); no error prints a traceback unless ``FUPIN_DEBUG=1``.
"""

from __future__ import annotations

import codecs
import datetime as dt
import errno
import functools
import json
import os
import sqlite3
import sys
import traceback
import warnings
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click
import sqlalchemy.exc

from fupin import __version__
from fupin.errors import FupinError, StorageError, ValidationError, WriteFailed

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _Context:
    """What every command may need: the plugin manager, and a store opened on first use."""

    def __init__(self, pm: Any, db: str | None, actor: str | None) -> None:
        self.pm = pm
        self.db = db
        self.actor_text = actor
        self._store: Any = None

    def store(self, *, init: bool = False) -> Any:
        from fupin.store import Actor, Store

        if self._store is None:
            requested = Actor.parse(self.actor_text) if self.actor_text else None
            opened = Store.open(self.db, pm=self.pm)
            click.get_current_context().call_on_close(opened.close)
            if not init and not opened.is_initialised():
                raise StorageError(f"数据库未初始化 / database not initialised: {opened.url} (run `fupin init`)")
            # Who acts: on PostgreSQL the login decides (--as chooses among its users), on SQLite --as says.
            self._store = opened.acting_as(opened.login_actor(requested))
        return self._store


def pass_store(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for commands (plugins' too): passes the opened, initialised store first."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(click.get_current_context().find_object(_Context).store(), *args, **kwargs)

    return wrapper


#: ``ctx.meta`` keys: the arguments after the group's options, and whether a JSON document was printed.
_ARGS = "fupin.args"
_JSON_PRINTED = "fupin.json_printed"


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[_JSON_PRINTED] = True  # a failure after it prints no second document


class _Failed(click.ClickException):
    """A one-line message with the exit status its cause has (``FupinError.exit_code``)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class FupinGroup(click.Group):
    """Turns every error into one line on stderr and an exit status, never a traceback.

    The status is the one :func:`failure` gives. With ``--json`` among the
    arguments, a command that failed before printing its JSON document prints
    ``{"error": ..., "exit_code": ...}`` on stdout, so stdout always parses.
    ``FUPIN_DEBUG=1`` also prints the traceback, for developers.
    """

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        ctx.meta[_ARGS] = list(args)  # the command's own arguments, for the failure's JSON document
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Abort, click.exceptions.Exit):
            raise
        except Exception as exc:
            if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
                raise  # a reader that went away (fupin export | head): click ends quietly
            obj = ctx.find_object(_Context)
            message, code = failure(exc, obj.db if obj is not None else None)
            if debugging():
                traceback.print_exc()
            if _wants_json(ctx.meta.get(_ARGS, [])) and not ctx.meta.get(_JSON_PRINTED):
                _echo_json({"error": message, "exit_code": code})
            raise _Failed(message, code) from None


def _wants_json(args: list[str]) -> bool:
    """Whether the command was asked for JSON: ``--json``, or ``--format json`` (``fupin report``)."""
    pairs = zip(args, args[1:])
    return "--json" in args or "--format=json" in args or ("--format", "json") in pairs


#: Exit status of an internal error (a bug in fupin or a plugin): sysexits.h's EX_SOFTWARE. Not 1-4,
#: which each tell the user what to fix (data, command, permission, environment): there is nothing to fix but the code.
INTERNAL_ERROR = 70

#: What an operating-system error means to a user, by errno.
_OS_REASONS = {
    errno.ENOSPC: "磁盘已满 / disk full",
    errno.EDQUOT: "磁盘配额已满 / disk quota exceeded",
    errno.EFBIG: "文件超过允许的大小 / file too large for this system or its limits",
    errno.EACCES: "没有权限 / permission denied",
    errno.EPERM: "不允许的操作 / operation not permitted",
    errno.EROFS: "只读文件系统 / read-only file system",
    errno.ENOENT: "文件或目录不存在 / no such file or directory",
    errno.ENOTDIR: "路径中有不是目录的部分 / a part of the path is not a directory",
    errno.EISDIR: "是目录 / is a directory",
    errno.EIO: "磁盘读写错误 / input/output error",
}


def debugging() -> bool:
    """Whether ``FUPIN_DEBUG`` asks for tracebacks (any value but empty, 0, false, no, off)."""
    return os.environ.get("FUPIN_DEBUG", "").strip().lower() not in ("", "0", "false", "no", "off")


def failure(exc: BaseException, db: str | None = None) -> tuple[str, int]:
    """The one line and the exit status the command line gives for ``exc``.

    ``FupinError``: its message and ``exit_code``. The environment, exit 4: a
    database error (SQLAlchemy's, or the driver's own: unreachable, corrupt,
    full, a session ended; PostgreSQL's "permission denied", SQLSTATE 42501,
    is exit 3), a database URL SQLAlchemy refuses, an operating-system error
    (disk full, permission denied, no such file ...), memory exhausted.
    Anything else is a bug: "内部错误 / internal error", exit
    :data:`INTERNAL_ERROR` (70). ``db`` is the ``--db`` URL, shown with its
    password hidden.
    """
    if isinstance(exc, FupinError):
        return _one_line(exc), exc.exit_code
    where = _safe(db) if db else "the database"
    driver = exc.orig if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.orig is not None else exc
    if isinstance(exc, sqlalchemy.exc.DBAPIError) or _is_driver_error(driver):
        from fupin.storage.engine import sqlite_state

        state = sqlite_state(driver)
        if state is not None:
            return f"{state} ({where}: {_one_line(driver)})", 4
        sqlstate = str(getattr(driver, "sqlstate", "") or "")
        if sqlstate == "42501":
            return f"数据库拒绝: 没有权限 / the database refused: permission denied ({where}): {_one_line(driver)}", 3
        if sqlstate.startswith("53"):  # insufficient resources: disk full, out of memory, too many connections
            return f"数据库服务器资源不足 / the database server ran out of resources ({where}): {_one_line(driver)}", 4
        # Unreachable, refused the URL's settings or the statement, the session ended: say which (password hidden) and why.
        return f"数据库错误 / database error ({where}): {_one_line(driver)}", 4
    if isinstance(exc, sqlalchemy.exc.ArgumentError):  # NoSuchModuleError too: a driver that is not installed
        return f"数据库地址无效 / invalid database URL ({where}): {_one_line(exc)}", 4
    if isinstance(exc, OSError):
        name = f": {exc.filename}" if exc.filename is not None else ""
        return f"{_os_reason(exc)}{name}", 4
    if isinstance(exc, MemoryError):
        return "内存不足 / out of memory", 4
    return (f"内部错误 / internal error: {type(exc).__name__}: {_one_line(exc)} "
            "(please report; FUPIN_DEBUG=1 shows the traceback)", INTERNAL_ERROR)


def _os_reason(exc: OSError) -> str:
    return _OS_REASONS.get(exc.errno or 0) or f"操作系统错误 / system error: {exc.strerror or _one_line(exc)}"


def _is_driver_error(exc: BaseException) -> bool:
    # Errors raised by the drivers themselves, not wrapped by SQLAlchemy: alembic's
    # and COPY's (run on the psycopg cursor) come so.
    if isinstance(exc, sqlite3.Error):
        return True
    psycopg = sys.modules.get("psycopg")  # loaded if PostgreSQL was used: never imported just to ask
    return psycopg is not None and isinstance(exc, psycopg.Error)


def _one_line(exc: BaseException) -> str:
    from fupin.storage.engine import hide_secrets

    # A driver's message may quote the connection settings: never their password.
    return " ".join(hide_secrets(str(exc)).split())


def _safe(url: str) -> str:
    from fupin.storage.engine import safe_url

    try:
        return safe_url(url)
    except Exception:  # not even a URL: show nothing of it
        return "the database"


def make_cli(pm: Any) -> click.Group:
    """Build the ``fupin`` command group for the plugin manager ``pm``."""

    @click.group(cls=FupinGroup, context_settings=CONTEXT_SETTINGS)
    @click.option(
        "--db",
        envvar="FUPIN_DATABASE_URL",
        metavar="URL",
        help="Database URL (default sqlite:///fupin.db; env FUPIN_DATABASE_URL), "
        "e.g. postgresql+psycopg://user@host/db.",
        show_envvar=True,
    )
    @click.option(
        "--as",
        "actor",
        envvar="FUPIN_ACTOR",
        metavar="UNIT:USER",
        help="Who is doing the work, recorded in the audit log (env FUPIN_ACTOR). On PostgreSQL one of the "
        "users mapped to the database login (the only one: the default).",
    )
    @click.version_option(__version__, prog_name="fupin")
    @click.pass_context
    def cli(ctx: click.Context, db: str | None, actor: str | None) -> None:
        """fupin: targeted poverty alleviation (精准扶贫) as data.

        \b
        Example:
          fupin --db sqlite:///tuomu.db demo
          fupin --db sqlite:///tuomu.db show household 530326106200010001

        \b
        Exit codes (an error is one line on stderr; FUPIN_DEBUG=1 adds the traceback):
          0   done
          1   data refused (a row, or a file as a whole) or commitments not met
          2   usage: a wrong command, option or option value
          3   permission denied (by fupin's roles or the database)
          4   the environment: database unreachable, corrupt, locked (busy), full or
              not initialised; a bad database URL; a file that cannot be read or
              written; disk full; out of memory
          70  internal error: a bug, please report it
        """
        ctx.obj = _Context(pm, db, actor)

    from fupin.audit_cli import COMMANDS as AUDIT
    from fupin.campaign_cli import COMMANDS as CAMPAIGN
    from fupin.dedup import dedup_group

    for command in (init, plugins, plan, record, show, synth, demo, import_, imports, export, template, users, whoami, dedup_group, *CAMPAIGN, *AUDIT):
        cli.add_command(command)
    from fupin.hooks import Hooks

    Hooks(pm).register_commands(cli)
    return cli


# -- commands -----------------------------------------------------------------


@click.command()
@click.option("--plan", "plans", multiple=True, metavar="NAME|FILE", help="Also load this plan (repeatable).")
@click.option("--app-role", metavar="ROLE",
              help="PostgreSQL: create/grant the role the application connects as, which cannot rewrite the audit log.")
@click.pass_obj
def init(obj: _Context, plans: tuple[str, ...], app_role: str | None) -> None:
    """Create the database schema, or upgrade it to the newest version.

    Run it as the schema's owner; with --app-role (PostgreSQL), the
    application then connects as ROLE (see README, "PostgreSQL roles").

    \b
    Example:
      fupin --db sqlite:///fupin.db init --plan qjnu-tuomu
      fupin --db postgresql://owner@db/fupin init --app-role fupin_app
    """
    from fupin.plans import load_plan

    store = obj.store(init=True)
    store.init()
    for name in plans:
        store.save_plan(load_plan(name))
    if app_role:
        created = store.grant_app_role(app_role)
        click.echo(f"应用角色已{'创建' if created else '授权'} / application role {'created' if created else 'granted'}: {app_role}")
    click.echo(f"数据库已就绪 / database ready: {store.url}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def plugins(obj: _Context, as_json: bool) -> None:
    """List installed plugins, their versions and what they contribute.

    \b
    Example:
      fupin plugins --json
    """
    from fupin.plugins import list_plugins, plugin_failures

    infos = list_plugins(obj.pm)
    failures = plugin_failures(obj.pm)
    if as_json:
        _echo_json(
            {
                "plugins": [i.to_dict() for i in infos],
                "failures": [{"name": f.name, "distribution": f.distribution, "version": f.version, "cause": f.cause} for f in failures],
            }
        )
        return
    for info in infos:
        click.echo(f"{info.name} {info.version} ({info.distribution})")
        for what, items in info.contributions.items():
            if items:
                shown = ", ".join(map(str, items)) if isinstance(items, (list, tuple)) else str(items)
                click.echo(f"  {what}: {shown}")
    for f in failures:
        click.echo(f"未能加载 / failed: {f.name}: {f.cause}", err=True)


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
def plan_show(obj: _Context, name: str, as_json: bool, lang: str) -> None:
    """Print a plan: a packaged plan by name, or a TOML file.

    The commitments' parameters are checked against the installed targets
    first: an unknown or mistyped one is refused naming file, commitment and key.

    \b
    Example:
      fupin plan show qjnu-tuomu
      fupin plan show ./my-plan.toml --json
    """
    from fupin.checks import validate_plan
    from fupin.hooks import Hooks
    from fupin.plans import load_plan, render_plan

    loaded = load_plan(name)
    validate_plan(loaded, Hooks(obj.pm).targets())
    if as_json:
        _echo_json(loaded.to_dict())
    else:
        click.echo(render_plan(loaded, lang=lang))


@plan.command("list")
def plan_list() -> None:
    """List the plans shipped with fupin."""
    from fupin.plans import load_plan, packaged_plans

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
    from fupin.plans import load_plan

    loaded = load_plan(name)
    store.save_plan(loaded)
    click.echo(f"已载入方案 / plan loaded: {loaded.name}")


@plan.command("lint")
@click.argument("name", required=False, default="qjnu-tuomu", metavar="[NAME|FILE]")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as a JSON list.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.pass_obj
def plan_lint(obj: _Context, name: str, as_json: bool, lang: str) -> None:
    """Report where a plan contradicts itself, with the arithmetic.

    Exits 0 when there are only warnings (contradictions), 1 when a stated
    figure cannot be checked at all (an error).

    \b
    Example:
      fupin plan lint
      fupin plan lint ./my-plan.toml --lang en
      fupin plan lint qjnu-tuomu --json
    """
    from fupin.lint import lint_plan, render_findings
    from fupin.plans import load_plan

    from fupin.hooks import Hooks

    loaded = load_plan(name)
    findings = lint_plan(loaded, Hooks(obj.pm).targets())
    if as_json:
        _echo_json([f.to_dict() for f in findings])
    else:
        click.echo(render_findings(findings, lang=lang, plan_name=loaded.name))
    if any(f.severity == "error" for f in findings):
        raise SystemExit(1)


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


def yuan_to_fen(text: str) -> int:
    """Parse an amount in yuan (``"1234.5"``) into integer fen, refusing sub-fen digits."""
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        raise ValidationError.of("amount", "不是金额 / not an amount in yuan", text) from None
    fen = value * 100
    if fen != fen.to_integral_value():
        raise ValidationError.of("amount", "金额最多两位小数 / at most two decimals (fen)", text)
    return int(fen)


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
    from fupin.actions import SupportAction

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
        from fupin.convert import unstructure

        _echo_json(unstructure(stored))
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
    from fupin.report import household_card_dict, render_household_card

    card = store.household_card(number)
    if as_json:
        _echo_json(household_card_dict(card))
    else:
        click.echo(render_household_card(card, store.vocab, lang=lang))


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
def synth(obj: _Context, households: int, seed: int, county: str, since: str, output: Path | None, fmt: str) -> None:
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
    from fupin.synth import Synthesizer

    gen = Synthesizer(seed=seed, county_code=county, first_identified=dt.date.fromisoformat(since))
    if output is not None:
        counts = gen.write_files(output, households=households, format=fmt, progress=_progress)
        click.echo(f"已写入 / written to {output}: " + ", ".join(f"{name} {n}" for name, n in counts.items()))
        return
    counts = gen.write(obj.store(), households=households, progress=_progress)
    click.echo(f"已生成 / generated: {counts['households']} 户 households, {counts['persons']} 人 persons, {counts['areas']} 区划 areas")


def _progress(total: int, label: str) -> Any:
    return click.progressbar(length=total, label=label, file=sys.stderr)


@click.command()
@click.option("--force", is_flag=True, help="Empty a non-empty database first (its records and history are lost).")
@click.option("--plan", "plan_name", default="qjnu-tuomu", show_default=True, metavar="NAME|FILE")
@click.option("--seed", type=int, default=2015, show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--register-only", is_flag=True, help="Build the village and its register only: no simulated years.")
@click.pass_obj
def demo(obj: _Context, force: bool, plan_name: str, seed: int, lang: str, register_only: bool) -> None:
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
    from fupin.demo import build_demo, render_played, render_summary
    from fupin.simulate import play

    store = obj.store(init=True)
    if store.is_empty():
        store.init()
    elif force:
        store.reset()
    else:
        raise click.ClickException(
            f"数据库不是空的 / the database is not empty: {store.url} (use --force to empty it, or another --db)"
        )
    summary = build_demo(store, plan_name, seed=seed)
    click.echo(render_summary(summary, lang=lang))
    if register_only:
        return
    played = play(store, summary.plan, seed=seed)
    click.echo("")
    click.echo(render_played(store, summary.plan, played, lang=lang))


class _Progress:
    """Rows read so far, on stderr, for long imports (only when stderr is a terminal)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.count = 0
        self.live = sys.stderr.isatty()

    def update(self, n: int) -> None:
        self.count += n
        if self.live:
            click.echo(f"\r{self.label}: {self.count:,} 行 rows", nl=False, err=True)

    def finish(self) -> None:
        if self.live:
            click.echo(f"\r{self.label}: {self.count:,} 行 rows", err=True)


def _import_kind(store: Any, name: str) -> Any:
    from fupin.io.engine import import_kinds

    kinds = import_kinds(store)
    if name not in kinds:
        raise click.BadParameter(f"未知的导入类型 / unknown kind {name!r}; known: {', '.join(sorted(kinds))}", param_hint="KIND")
    return kinds[name].bind(store)


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
def import_(obj: _Context, kind: str | None, files: tuple[Path, ...], list_kinds: bool, encoding: str | None,
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
    from fupin.io.engine import ImportResult, RowError, import_files
    from fupin.io.files import ReadLimits

    result = ImportResult(kind, dry_run, on_error)
    failed: Exception | None = None
    imported = False
    try:
        if errors_file is not None:
            _writable(errors_file)  # before anything is imported, not after it is committed
        store = obj.store()
        import_kind = _import_kind(store, kind)
        limits = ReadLimits(max_part_mb=max_part_mb, max_total_mb=max_total_mb, max_ratio=max_ratio, max_cells=max_cells)
        result = import_files(store, import_kind, files, encoding=encoding, sheet=sheet, on_error=on_error,
                              dry_run=dry_run, batch_size=batch_size, progress=lambda name, _n: _Progress(name), limits=limits)
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
        _echo_json(result.to_dict() | outcome)
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
    return WriteFailed(f"{path}: 无法写入 / cannot write: {_os_reason(exc)}")


def _outcome(exc: BaseException, obj: _Context) -> tuple[str, int]:
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


def _list_import_kinds(obj: _Context, as_json: bool) -> None:
    from fupin.hooks import Hooks

    from fupin.io.kinds import describe_import_kinds

    data = describe_import_kinds(Hooks(obj.pm))
    if as_json:
        _echo_json(data)
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
    import sqlalchemy as sa

    from fupin.storage import schema as S

    store.access.require("audit.read")
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(S.import_batches).order_by(S.import_batches.c.id.desc()).limit(limit)).mappings().all()
    if as_json:
        _echo_json([dict(r) for r in rows])
        return
    from fupin.text import table

    click.echo("\n".join(table(
        ["#", "时间 time", "类型 kind", "文件 file", "状态 status", "新增", "更新", "未变", "拒绝", "操作人 by"],
        [[str(r["id"]), r["started_at"].strftime("%Y-%m-%d %H:%M"), r["kind"], r["file_name"], r["status"],
          str(r["inserted"]), str(r["updated"]), str(r["unchanged"]), str(r["rejected"]), f"{r['unit']}:{r['user']}"]
         for r in rows],
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
    from fupin.io.export import export_rows
    from fupin.io.files import write_table

    if output == "-" and fmt == "xlsx":
        raise click.UsageError("XLSX 需要输出文件 / xlsx needs -o FILE")
    import_kind = _import_kind(store, kind)
    # Audited by export_rows before the first row is written, masked or not.
    headers, rows = export_rows(store, import_kind, where=where, unmasked=unmasked, english=english,
                                details={"format": fmt, "file": output})
    target: Any = click.open_file("-", "wb") if output == "-" else output
    count = write_table(target, fmt, headers, rows)
    if output != "-":
        click.echo(f"已导出 / exported {count} 行 rows to {output}", err=True)


@click.command()
@click.argument("kind")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Output file (default: KIND-模板.FORMAT).")
@click.option("--english", is_flag=True, help="English column headers (default: Chinese).")
@click.pass_obj
def template(obj: _Context, kind: str, fmt: str, output: str | None, english: bool) -> None:
    """Write an empty import file for KIND: the headers, and in XLSX drop-down lists of allowed values.

    \b
    Example:
      fupin template households --format xlsx -o 贫困户导入模板.xlsx
    """
    from fupin.hooks import Hooks
    from fupin.io.files import write_table
    from fupin.io.kinds import template_dropdowns, unbound_store

    hooks = Hooks(obj.pm)
    # Templates need the plugins' kinds and vocabularies, not a database.
    import_kind = _import_kind(unbound_store(hooks), kind)
    headers = [c.name if english else c.zh for c in import_kind.columns]
    dropdowns = template_dropdowns(import_kind, hooks.vocabulary(), hooks) if fmt == "xlsx" else None
    path = output or f"{kind}-模板.{fmt}"
    write_table(path, fmt, headers, [], dropdowns=dropdowns)
    click.echo(f"已生成模板 / template written: {path}")


@click.group()
def users() -> None:
    """Users and their roles (who may do what).

    \b
    Example:
      fupin users add QJNU-BIO:clerk --role department
      fupin users add ZHZ-GOV:clerk --role area_user --area 530326106
      fupin users list
    """


@users.command("add")
@click.argument("login", metavar="UNIT:USER")
@click.option("--role", "roles", multiple=True, required=True, help="Role name (repeatable); see `fupin users roles`.")
@click.option("--area", "areas", multiple=True, metavar="CODE", help="Area code for area-scoped roles (repeatable).")
@click.option("--cadre", metavar="CODE", help="The user's cadre code, for the cadre role.")
@click.option("--db-login", metavar="ROLE", help="The PostgreSQL login (role) this user acts through on the command line "
              "(default: your own login, which may then choose among its users with --as).")
@pass_store
def users_add(store: Any, login: str, roles: tuple[str, ...], areas: tuple[str, ...], cadre: str | None, db_login: str | None) -> None:
    """Register UNIT:USER with roles, or change their roles (needs users.manage).

    On PostgreSQL a user acts on the command line only through the database
    login it is mapped to (--db-login, by default the login adding it): the
    server's authentication decides who a clerk is. Give each clerk a login of
    their own. A platform that embeds fupin passes the actor itself.
    """
    from fupin.access import User
    from fupin.store import Actor

    actor = Actor.parse(login)
    store.add_user(User(actor.unit, actor.user, roles, areas, cadre, db_login or store.session_login()))
    click.echo(f"已登记用户 / user registered: {login} ({', '.join(roles)})")


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_store
def users_list(store: Any, as_json: bool) -> None:
    """List users with their roles, areas and cadre."""
    found = store.users()
    if as_json:
        _echo_json([{"login": u.key, "roles": list(u.roles), "areas": list(u.areas), "cadre": u.cadre, "db_login": u.login} for u in found])
        return
    from fupin.text import table

    click.echo("\n".join(table(["用户 user", "角色 roles", "区域 areas", "干部 cadre"],
                               [[u.key, ", ".join(u.roles), ", ".join(u.areas), u.cadre or ""] for u in found], indent="")))


@users.command("roles")
@pass_store
def users_roles(store: Any) -> None:
    """List the roles: scope and permissions."""
    for role in store.roles.values():
        click.echo(f"{role.name}  {role.zh} / {role.en}  (scope: {role.scope})")
        click.echo(f"    {', '.join(sorted(role.permissions))}")
        if role.kinds is not None:
            click.echo(f"    帮扶类型 / action kinds: {', '.join(role.kinds)}")


@click.command()
@pass_store
def whoami(store: Any) -> None:
    """Show the actor commands run as, and their roles and permissions."""
    access = store.access
    roles = ", ".join(access.user.roles) if access.user else "未登记 / not registered"
    click.echo(f"{store.actor}: {roles}")
    for permission in sorted(p for p in store.permissions if access.has(p)):
        click.echo(f"  {permission}: {', '.join(sorted(access.scopes(permission)))}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``fupin`` script: builds the plugin manager, then the CLI."""
    from fupin.plugins import get_plugin_manager, plugin_failures

    _quiet_interpreter()
    try:
        pm = get_plugin_manager()
        for failed in plugin_failures(pm):
            click.echo(f"警告 / warning: plugin {failed.name} not loaded: {failed.cause}", err=True)
        command = make_cli(pm)
    except Exception as exc:  # before click runs: the same one line as after it
        message, code = failure(exc)
        if debugging():
            traceback.print_exc()
        click.echo(f"Error: {message}", err=True)
        sys.exit(code)
    command.main(args=argv, prog_name="fupin")


def _quiet_interpreter() -> None:
    # What Python itself would print over several lines becomes one line (or
    # nothing) unless FUPIN_DEBUG: a warning (a library's, e.g. SQLAlchemy
    # ignoring a URL setting), and an error in a destructor after the real error
    # was reported (openpyxl cleaning up after a full disk).
    if debugging():
        return
    warnings.showwarning = lambda message, category, *_args, **_kwargs: click.echo(
        f"警告 / warning: {category.__name__}: {' '.join(str(message).split())}", err=True
    )
    sys.unraisablehook = lambda _unraisable: None
