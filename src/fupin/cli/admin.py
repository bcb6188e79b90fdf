"""``fupin init`` and ``fupin plugins``."""

from __future__ import annotations

import click

from fupin.cli._app import Context, echo_json


@click.command()
@click.option("--plan", "plans", multiple=True, metavar="NAME|FILE", help="Also load this plan (repeatable).")
@click.option("--app-role", metavar="ROLE",
              help="PostgreSQL: create/grant the role the application connects as, which cannot rewrite the audit log.")
@click.pass_obj
def init(obj: Context, plans: tuple[str, ...], app_role: str | None) -> None:
    """Create the database schema, or upgrade it to the newest version.

    Run it as the schema's owner; with --app-role (PostgreSQL), the
    application then connects as ROLE (see README, "PostgreSQL roles").

    \b
    Example:
      fupin --db sqlite:///fupin.db init --plan qjnu-tuomu
      fupin --db postgresql://owner@db/fupin init --app-role fupin_app
    """
    from fupin import load_plan

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
def plugins(obj: Context, as_json: bool) -> None:
    """List installed plugins, their versions and what they contribute.

    \b
    Example:
      fupin plugins --json
    """
    from fupin import list_plugins, plugin_failures

    infos = list_plugins(obj.pm)
    failures = plugin_failures(obj.pm)
    if as_json:
        echo_json(
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
