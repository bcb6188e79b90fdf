"""fupin's fixtures are a pytest plugin (the ``pytest11`` entry point): a third-party
plugin's test suite, outside this repository and without a conftest, gets ``store``,
``pm`` and ``cli`` by installing fupin."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from fupin.testing import POSTGRES_URL_ENV

PLUGIN = textwrap.dedent(
    '''
    """A department's plugin: one action kind."""
    import attrs
    import fupin


    @attrs.frozen
    class Clinic:
        patients: int


    @fupin.hookimpl
    def fupin_action_kinds():
        return [fupin.ActionKind("clinic.free_clinic", "义诊", "free clinic", details=Clinic,
                                 beneficiary_types=("household", "village"))]
    '''
)

TESTS = textwrap.dedent(
    '''
    import pytest

    import fupin_clinic


    @pytest.fixture
    def pm(pm):
        pm.register(fupin_clinic, name="clinic")
        return pm


    def test_the_kind_is_registered(pm):
        from fupin.hooks import Hooks

        assert "clinic.free_clinic" in Hooks(pm).action_kinds()


    def test_the_store_sees_the_plugin(store):
        assert "clinic.free_clinic" in store.hooks.action_kinds()
        assert store.is_initialised()


    def test_the_cli_runs(cli):
        result = cli("plugins", "--json")
        assert result.exit_code == 0, result.output
    '''
)


def test_fixtures_are_registered_through_the_pytest11_entry_point() -> None:
    """Installing fupin registers ``fupin.testing`` under the ``pytest11`` group."""
    points = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="pytest11")}
    assert points.get("fupin") == "fupin.testing"


def test_a_third_party_plugin_gets_the_fixtures_without_a_conftest(tmp_path: Path) -> None:
    """A plugin project outside the repository, with no conftest, runs tests on ``store``, ``pm`` and ``cli``."""
    project = tmp_path / "fupin-clinic"
    (project / "src").mkdir(parents=True)
    (project / "tests").mkdir()
    (project / "src" / "fupin_clinic.py").write_text(PLUGIN, encoding="utf-8")
    (project / "tests" / "test_clinic.py").write_text(TESTS, encoding="utf-8")
    (project / "pytest.ini").write_text("[pytest]\naddopts = --import-mode=importlib --strict-markers\n")
    # The PostgreSQL server of this run (scripts/with-postgres), if any, is passed on.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "FUPIN_")) or k == POSTGRES_URL_ENV}
    env["PYTHONPATH"] = str(project / "src")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert not list(project.rglob("conftest.py"))
    summary = out.strip().splitlines()[-1]
    expected = "4 passed" if os.environ.get(POSTGRES_URL_ENV) else "3 passed, 1 skipped"
    assert expected in summary and "error" not in summary and "failed" not in summary, out
