"""``make_cli(pm)``, the command group with every command, and ``main()``, the ``fupin`` script."""

from __future__ import annotations

import sys
import traceback
import warnings
from typing import Any

import click
import pluggy

from fupin import Hooks, __version__
from fupin.cli._app import CONTEXT_SETTINGS, Context, FupinGroup, debugging, failure
from fupin.cli.admin import init, plugins
from fupin.cli.audit import audit_group
from fupin.cli.campaign import case, check, exit_group, pair, report, visits
from fupin.cli.dedup import dedup_group
from fupin.cli.demo import demo, synth
from fupin.cli.imports import export, import_, imports, template
from fupin.cli.plans import plan
from fupin.cli.records import record, show
from fupin.cli.users import users, whoami


def make_cli(pm: pluggy.PluginManager) -> click.Group:
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
    @click.option("--progress", "show_progress", is_flag=True, envvar="FUPIN_PROGRESS", show_envvar=True,
                  help="Long imports, exports and the demo print progress lines on stderr even when it is not a "
                  "terminal (on a terminal they show a bar anyway).")
    @click.version_option(__version__, prog_name="fupin")
    @click.pass_context
    def cli(ctx: click.Context, db: str | None, actor: str | None, show_progress: bool) -> None:
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
        ctx.obj = Context(pm, db, actor, show_progress)

    for command in (init, plugins, plan, record, show, synth, demo, import_, imports, export, template, users, whoami, dedup_group,
                    pair, visits, case, check, exit_group, report, audit_group):
        cli.add_command(command)
    Hooks(pm).register_commands(cli)
    return cli


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``fupin`` script: builds the plugin manager, then the CLI."""
    from fupin import get_plugin_manager, plugin_failures

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
