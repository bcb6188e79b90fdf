"""PostgreSQL: the application's own role, which may work with the records but not rewrite history.

The schema's owner (the role that runs ``fupin init`` and so the migrations)
can do anything to its tables: truncate the audit log, disable or drop its
triggers. The application should therefore connect as another role, one that
owns nothing: :func:`grant_app_role` creates it (or takes an existing one) and
gives it ordinary reads and writes, but on ``audit_log`` only SELECT and
INSERT, on ``audit_anchor`` only SELECT and UPDATE (its trigger lets the
anchor move forward only), and on ``alembic_version`` only SELECT. Not being
an owner, it cannot TRUNCATE, ALTER or DROP a table or its triggers either.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from fupin.errors import StorageError, ValidationError

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def grant_app_role(engine: sa.Engine, role: str) -> bool:
    """Create (if missing) and grant the application role ``role`` on this database; True if it was created.

    Run as the schema's owner, after the migrations. Refuses a role that is a
    superuser, the owner itself, or a member of the owner's role (it would
    inherit the owner's rights). Grants on tables created later by the owner
    (a plugin's migration) follow through default privileges; running it
    again after an upgrade is harmless.
    """
    if engine.dialect.name != "postgresql":
        raise ValidationError.of("--app-role", "应用角色只用于 PostgreSQL / an application role is for PostgreSQL only", role)
    if not _NAME.fullmatch(role):
        raise ValidationError.of("--app-role", "角色名只用小写字母、数字和下划线 / a role name of lower-case letters, digits and _", role)
    with engine.begin() as conn:
        q = conn.dialect.identifier_preparer.quote
        owner = conn.execute(sa.text("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_log' AND schemaname = current_schema()")).scalar()
        if owner is None:
            raise StorageError("数据库未初始化 / database not initialised (run `fupin init` as the owner first)")
        me = conn.execute(sa.text("SELECT current_user")).scalar()
        if not conn.execute(sa.text("SELECT pg_has_role(current_user, :owner, 'USAGE')"), {"owner": owner}).scalar():
            raise StorageError(f"须以表的所有者 {owner} 运行 / run it as the tables' owner {owner}, not {me}")
        found = conn.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
        created = found is None
        if created:
            conn.exec_driver_sql(f"CREATE ROLE {q(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION")
        elif found.rolsuper or role == owner or conn.execute(
            sa.text("SELECT pg_has_role(:r, :owner, 'USAGE')"), {"r": role, "owner": owner}
        ).scalar():
            raise ValidationError.of("--app-role", f"角色 {role} 是超级用户或表的所有者 / role {role} is a superuser or has the owner's rights: choose another", role)
        elif conn.execute(sa.text("SELECT count(*) FROM pg_tables WHERE tableowner = :r"), {"r": role}).scalar():
            raise ValidationError.of("--app-role", f"角色 {role} 拥有数据表 / role {role} owns tables: an application role must own none", role)
        database = conn.execute(sa.text("SELECT current_database()")).scalar()
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar()
        r, s = q(role), q(schema)
        for statement in (
            f"GRANT CONNECT ON DATABASE {q(database)} TO {r}",
            f"GRANT USAGE ON SCHEMA {s} TO {r}",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}",
            f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {r}",
            f"REVOKE UPDATE, DELETE ON audit_log FROM {r}",
            f"REVOKE INSERT, DELETE ON audit_anchor FROM {r}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(owner)} IN SCHEMA {s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(owner)} IN SCHEMA {s} GRANT USAGE, SELECT ON SEQUENCES TO {r}",
        ):
            conn.exec_driver_sql(statement)
    return created
