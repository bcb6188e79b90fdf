"""``fupin users`` (who may do what) and ``fupin whoami``."""

from __future__ import annotations

from typing import Any

import click

from fupin.cli._app import echo_json, pass_store


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
    from fupin import Actor, User

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
        echo_json([{"login": u.key, "roles": list(u.roles), "areas": list(u.areas), "cadre": u.cadre, "db_login": u.login} for u in found])
        return
    from fupin.ext import table

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
