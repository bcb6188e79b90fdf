"""Create and upgrade the schema with alembic: the core branch and every plugin's.

The core's revisions live in ``fupin/storage/migrations/versions`` on the
branch labelled ``core``; each plugin adds its own folder (``fupin_migrations``)
holding a branch that depends on ``core``. :func:`upgrade` brings every branch
to its head, so a database made by an older release upgrades in place.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(extra_locations: Iterable[Path] = ()) -> Config:
    """An alembic Config for the core migrations plus ``extra_locations``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    locations = [MIGRATIONS / "versions", *map(Path, extra_locations)]
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(str(p) for p in locations))
    return cfg


def upgrade(engine: sa.Engine, extra_locations: Iterable[Path] = (), revision: str = "heads") -> None:
    """Upgrade the database behind ``engine`` to ``revision`` (all heads by default)."""
    cfg = alembic_config(extra_locations)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def drop_everything(engine: sa.Engine) -> None:
    """Drop every table in the database (fupin's, its plugins', alembic's): a throwaway reset.

    Reflects what is there rather than running downgrades, which would have to
    rebuild SQLite tables full of rows only to drop them.
    """
    reflected = sa.MetaData()
    reflected.reflect(engine)
    with engine.begin() as conn:
        reflected.drop_all(conn)
        if conn.dialect.name == "postgresql":
            for function in ("fupin_audit_append_only", "fupin_audit_anchor_forward"):
                conn.execute(sa.text(f"DROP FUNCTION IF EXISTS {function}() CASCADE"))


def current_heads(engine: sa.Engine) -> set[str]:
    """The revisions the database is at (empty for a database never initialised)."""
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def pending(engine: sa.Engine, extra_locations: Iterable[Path] = ()) -> bool:
    """Whether some branch is not at its head."""
    script = ScriptDirectory.from_config(alembic_config(extra_locations))
    return current_heads(engine) != set(script.get_heads())
