"""README.md runs as written: its command blocks, in order, against a fresh database.

Every ```sh / ```bash / ```console block and every ```python block of README.md
that is not marked ``<!-- readme-test: skip (why) -->`` on the line before it
runs, in the order of the file, in one bash process (``set -euo pipefail``):
what a block exports holds for the blocks after it, as in a reader's terminal.
The process starts in a temporary folder laid out like the repository root
(``examples/`` copied, ``.venv`` the interpreter running the tests), so the
README's relative paths are the ones a reader at the root types. A python block
is fed to the venv's ``python``. A block that fails stops the run, and the
failure names the block by its README line and first line.

The database is the README's own (``export FUPIN_DATABASE_URL=sqlite:///...``,
relative: a fresh file in the temporary folder); the PostgreSQL run replaces
that one line with a fresh PostgreSQL database.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

#: Fence languages run with bash; python blocks are run with the venv's python.
SHELL_LANGUAGES = {"sh", "bash", "console", "shell"}
SKIP = re.compile(r"^<!--\s*readme-test:\s*skip\b")
FENCE = re.compile(r"^```\s*([\w+-]*)\s*$")
#: The one line of README.md that chooses the database; the PostgreSQL run replaces it.
DATABASE_LINE = re.compile(r"^export FUPIN_DATABASE_URL=sqlite:///\S+", re.MULTILINE)

#: The blocks the README test does not run (first lines): the set-up of a machine or a server, nothing else.
SKIPPED = (
    "make demo",
    "fupin --db postgresql+psycopg://fupin_owner@db/fupin init --app-role fupin_app",
)
#: Generous: the demo plays five years of a village (about 30 s on SQLite on a slow machine).
TIMEOUT_S = 1200


@attrs.frozen
class Block:
    """One fenced block of README.md."""

    line: int  # 1-based line of the opening fence
    language: str
    code: str
    skip: bool

    @property
    def first_line(self) -> str:
        return next((s.strip() for s in self.code.splitlines() if s.strip()), "")

    @property
    def runs(self) -> bool:
        return not self.skip and (self.language in SHELL_LANGUAGES or self.language == "python")


def readme_blocks(text: str) -> list[Block]:
    """Every fenced block of ``text``, in order; skipped when the nearest non-blank line above is a skip mark."""
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opened = FENCE.match(lines[i])
        if not opened:
            i += 1
            continue
        start = i
        i += 1
        body: list[str] = []
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        above = next((s.strip() for s in reversed(lines[:start]) if s.strip()), "")
        blocks.append(Block(start + 1, opened.group(1).lower(), "\n".join(body) + "\n", bool(SKIP.match(above))))
        i += 1
    return blocks


def _script(blocks: list[Block], marks: Path, outputs: Path) -> str:
    """One bash script running ``blocks`` in order; before each, its number goes to ``marks`` and its output to its files."""
    parts = ["set -euo pipefail"]
    for n, block in enumerate(blocks):
        parts.append(f"printf '%s\\n' {n} > '{marks}'")
        parts.append(f"exec > '{outputs}/{n}.out' 2> '{outputs}/{n}.err'")
        if block.language == "python":
            parts.append(f"python - <<'README_PYTHON_BLOCK'\n{block.code}README_PYTHON_BLOCK")
        else:
            parts.append(block.code)
    return "\n".join(parts) + "\n"


@attrs.frozen
class Run:
    """The outputs of the README's blocks, by block."""

    blocks: tuple[Block, ...]
    folder: Path
    stdout: tuple[str, ...]
    stderr: tuple[str, ...]

    def output_of(self, first_line_start: str, *, stderr: bool = False) -> str:
        """The stdout (or stderr) of the block whose first line starts with ``first_line_start``."""
        for block, out, err in zip(self.blocks, self.stdout, self.stderr, strict=True):
            if block.first_line.startswith(first_line_start):
                return err if stderr else out
        raise AssertionError(f"README.md has no block starting {first_line_start!r}")


def run_readme(tmp_path: Path, database_url: str | None = None) -> Run:
    """Run README.md's blocks in a copy of the repository's layout under ``tmp_path``; fail naming the block that fails."""
    text = README.read_text(encoding="utf-8")
    if database_url is not None:
        assert DATABASE_LINE.search(text), "README.md no longer sets FUPIN_DATABASE_URL to an SQLite file"
        text = DATABASE_LINE.sub(lambda _m: f"export FUPIN_DATABASE_URL='{database_url}'", text, count=1)
    blocks = [b for b in readme_blocks(text) if b.runs]
    work = tmp_path / "repo"
    work.mkdir()
    shutil.copytree(ROOT / "examples", work / "examples", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.db"))
    _venv(work / ".venv")
    marks, outputs = tmp_path / "block", tmp_path / "out"
    outputs.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FUPIN_", "VIRTUAL_ENV", "PYTHON"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "-c", _script(blocks, marks, outputs)], cwd=work, env=env,
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT_S, check=False,
    )
    if done.returncode != 0:
        n = int(marks.read_text().strip()) if marks.exists() else 0
        err = (outputs / f"{n}.err").read_text(encoding="utf-8", errors="replace") if (outputs / f"{n}.err").exists() else done.stderr
        out = (outputs / f"{n}.out").read_text(encoding="utf-8", errors="replace") if (outputs / f"{n}.out").exists() else ""
        pytest.fail(
            f"README.md block at line {blocks[n].line} ({blocks[n].first_line!r}) failed with exit {done.returncode}\n"
            f"--- stdout (end) ---\n{out[-3000:]}\n--- stderr (end) ---\n{err[-3000:]}",
            pytrace=False,
        )
    read = lambda suffix: tuple((outputs / f"{n}.{suffix}").read_text(encoding="utf-8") for n in range(len(blocks)))  # noqa: E731
    return Run(tuple(blocks), work, read("out"), read("err"))


def _venv(link: Path) -> None:
    """``.venv`` as the README's first command expects it: the environment running the tests."""
    prefix = Path(sys.prefix)
    if (prefix / "bin" / "activate").is_file():
        link.symlink_to(prefix, target_is_directory=True)
    else:  # not a venv (an installed interpreter): an activate that puts its bin first
        (link / "bin").mkdir(parents=True)
        (link / "bin" / "activate").write_text(f'export PATH="{Path(sys.executable).parent}:$PATH"\n', encoding="utf-8")


def check_claims(run: Run) -> None:
    """Figures README.md states, as the commands print them."""
    assert (run.folder / "out" / "拖木村2016.html").stat().st_size > 0
    plugins = json.loads((run.folder / "out" / "plugins.json").read_text(encoding="utf-8"))
    assert plugins
    # "fupin check exits 1 when a commitment is not met ...: in the demo's 2016, C02 (350,000 yuan ...) and C18"
    demo = run.output_of("fupin demo")
    assert "exit 1: a commitment is not met" in demo
    assert re.search(r"C02 +未达成 .*350,000\.00 元", demo) and re.search(r"C18 +未达成", demo)
    assert "建档立卡登记 (合成数据): 428 户" in demo  # "拖木村, 428 poor households"
    assert re.search(r"方案\s+qjnu-tuomu", demo) and "C37" in demo  # "the plan and its 37 commitments"
    # 8 households, 23 members, 1 of 8 can exit, the diary follows the cases up
    village = run.output_of("fupin plan load examples/plans/ddac-xinzhai.toml")
    assert "新寨村建档立卡户.xlsx: 新增 8 inserted" in village
    assert "民情日记.csv: 新增 3 inserted" in village
    assert "1 of 8 poor households can exit" in village
    persons = json.loads((run.folder / "out" / "persons.json").read_text(encoding="utf-8"))
    assert persons["committed"] and persons["files"][0]["inserted"] == 23
    check = json.loads((run.folder / "out" / "check-2016.json").read_text(encoding="utf-8"))
    assert check and all(r["id"].startswith("D") for r in check)  # the made-up plan's own commitments only
    assert "exit 1: a commitment is not met" in village
    # the note read back with the key the walkthrough made, before the rotation
    streams = run.output_of("fupin education teachers")
    assert "QJNU-PSY-2017-0149" in streams and re.search(r"\d+ notes re-encrypted with the new key", streams)
    # the same persons file again: 23 unchanged
    batch = run.output_of("fupin import --list")
    assert "未变 23 unchanged" in batch
    assert re.search(r"import persons: \d+/\d+ \(100%\)", run.output_of("fupin import --list", stderr=True))  # --progress
    # the cadre sees his three households only; another household is refused
    who = run.output_of("fupin users add DDAC-NX:clerk")
    assert "3 households due" in who and "exit 3: not a household he helps" in who
    assert "530381110201030001" not in who.split("exit 3")[0].split("3 households due")[1]
    assert "任云" in who and "已合并 / merged" in who  # the person registered twice, found and merged
    assert "沈桂志" in run.output_of("import fupin")  # the python block: the card of 530381110201020001


def test_skipped_blocks_are_only_the_set_up():
    """Only the set-up blocks are marked skip, visibly; every other shell block is run."""
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    skipped = [b.first_line for b in blocks if b.skip]
    assert len(skipped) == len(SKIPPED) and all(s.startswith(e) for s, e in zip(skipped, SKIPPED, strict=True)), skipped
    assert sum(b.runs and b.language in SHELL_LANGUAGES for b in blocks) >= 6


def test_sample_files_are_the_generators():
    """examples/data/ holds what scripts/make-example-data writes, byte for byte, and every file the README names."""
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "make-example-data"), "--check"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    named = set(re.findall(r"examples/data/(\S+\.(?:csv|xlsx))", README.read_text(encoding="utf-8")))
    assert named and all((ROOT / "examples" / "data" / name).is_file() for name in named), named


def test_a_failing_block_is_named(tmp_path, monkeypatch):
    """A README whose command fails makes the test fail naming that block's line and first line."""
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n```sh\ntrue\n```\n\n```sh\nfupin no-such-command\necho never\n```\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "README", readme)
    with pytest.raises(pytest.fail.Exception, match=r"line 7 \('fupin no-such-command'\) failed with exit 2"):
        run_readme(tmp_path)


def test_readme_runs_on_sqlite(tmp_path):
    """Every block of README.md runs in order against a fresh SQLite database, and says what it claims."""
    check_claims(run_readme(tmp_path))


def test_readme_runs_on_postgresql(tmp_path, postgres_url):
    """The same walkthrough with FUPIN_DATABASE_URL naming a fresh PostgreSQL database."""
    check_claims(run_readme(tmp_path, postgres_url))
