"""The plugin author's documents match the code: docs/plugin_tables.md documents exactly
the columns of the tables it lists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fupin.storage import schema as S

DOCS = Path(__file__).resolve().parent.parent / "docs"


def documented_tables() -> dict[str, list[str]]:
    """Table -> the columns its section of plugin_tables.md lists, in order."""
    text = (DOCS / "plugin_tables.md").read_text(encoding="utf-8")
    out: dict[str, list[str]] = {}
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        name = section.split("\n", 1)[0].strip()
        out[name] = re.findall(r"^\| `(\w+)` \|", section, flags=re.M)
    return out


TABLES = documented_tables()


def test_the_tables_a_plugin_reads_are_documented() -> None:
    """The tables the guide and the core's targets send plugins to are all on the page."""
    wanted = {"support_actions", "action_beneficiaries", "action_helpers", "households", "persons", "person_tags",
              "plans", "plan_villages", "units", "cadres", "pairings", "visits", "areas"}
    assert wanted <= set(TABLES)


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_column_is_documented_and_exists(table: str) -> None:
    """Each documented column exists in the schema, and each column of the table is documented, in schema order."""
    assert table in S.metadata.tables, f"{table} is documented but not in the schema"
    assert TABLES[table] == [c.name for c in S.metadata.tables[table].c]
