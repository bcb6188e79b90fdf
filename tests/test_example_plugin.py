"""The example college plugin (examples/college_plugin) installs with pip and is found through its entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "college_plugin"

# Run in a fresh interpreter: the plugin must be found as an installed
# distribution, exactly as `fupin` finds it, not imported from the test process.
PROBE = textwrap.dedent(
    """
    import datetime as dt
    import json

    import click
    from click.testing import CliRunner

    from fupin.actions import SupportAction
    from fupin.hooks import Hooks
    from fupin.plugins import get_plugin_manager, list_plugins, plugin_failures

    pm = get_plugin_manager(strict=False)
    hooks = Hooks(pm)
    out = {
        "plugins": {info.name: info.to_dict() for info in list_plugins(pm)},
        "failures": [f.to_dict() for f in plugin_failures(pm)],
        "kinds": sorted(hooks.action_kinds()),
    }
    if "lifesci.soil_testing" in out["kinds"]:
        kind = hooks.action_kind("lifesci.soil_testing")
        details = {"samples": 12, "lab": "生命科学学院土壤实验室", "fields": ["大坪地", "河边田"]}
        day = dt.date(2020, 4, 2)
        ok = SupportAction.new(kind, start=day, unit="YNU-LS", details=details,
                               beneficiaries=["household:5303261062000001"], quantities={"samples": 12})
        lonely = SupportAction.new(kind, start=day, unit="YNU-LS", details=details)
        out["problems_ok"] = [str(p) for p in hooks.validate_record(ok, "action")]
        out["problems_lonely"] = [p.field for p in hooks.validate_record(lonely, "action")]
        cli = click.Group("fupin")
        hooks.register_commands(cli)
        result = CliRunner().invoke(cli, ["lifesci", "info"])
        out["info"] = [result.exit_code, result.output]
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plugin, installed with pip into its own folder."""
    target = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--no-input", "--quiet", "--target", str(target), str(EXAMPLE)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return target


def _probe(site: Path, **env: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FUPIN_")}
    environ["PYTHONPATH"] = str(site)
    environ.update(env)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], env=environ, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


class TestExamplePlugin:
    def test_pip_installs_the_entry_point(self, site: Path) -> None:
        """The built wheel declares `lifesci = fupin_lifesci` in the fupin group."""
        [info] = site.glob("fupin_lifesci-*.dist-info")
        assert "[fupin]\nlifesci = fupin_lifesci" in (info / "entry_points.txt").read_text()

    def test_found_with_version_and_kind(self, site: Path) -> None:
        """get_plugin_manager() lists lifesci with its distribution, version, hooks and kind."""
        out = _probe(site)
        assert [f for f in out["failures"] if f["name"] == "lifesci"] == []
        lifesci = out["plugins"]["lifesci"]
        assert (lifesci["distribution"], lifesci["version"], lifesci["module"]) == (
            "fupin-lifesci", "0.1.0", "fupin_lifesci"
        )
        assert lifesci["hooks"] == ["fupin_action_kinds", "fupin_register_commands", "fupin_validate_record"]
        assert lifesci["contributions"] == {"action_kinds": ["lifesci.soil_testing"], "commands": ["lifesci"]}
        assert "lifesci.soil_testing" in out["kinds"]

    def test_rule_and_command(self, site: Path) -> None:
        """The plugin's rule refuses an action without beneficiaries, and `lifesci info` prints the kind."""
        out = _probe(site)
        assert out["problems_ok"] == []
        assert out["problems_lonely"] == ["beneficiaries"]
        assert out["info"] == [
            0,
            "lifesci.soil_testing  测土配方施肥 / Soil testing and fertiliser recommendation\n"
            "beneficiaries: household, village\n"
            "quantities: samples\n"
            "details: samples, lab, fields, recommendation\n",
        ]

    def test_disabled_by_name(self, site: Path) -> None:
        """FUPIN_DISABLE_PLUGINS=lifesci leaves it out, with no failure."""
        out = _probe(site, FUPIN_DISABLE_PLUGINS="lifesci")
        assert "lifesci" not in out["plugins"]
        assert not any(kind.startswith("lifesci.") for kind in out["kinds"])
        assert [f for f in out["failures"] if f["name"] == "lifesci"] == []
