"""How the package is put together: click only in ``fupin.cli``, and no import cycles.

Both are read from the source (the AST), not from what happens to be imported
at run time, so a cycle or a stray click import fails here with its place named.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

import fupin

SRC = Path(fupin.__file__).parent

#: Modules that may import click although they are not the command line. ``fupin.testing``'s
#: ``cli`` fixture runs the command line in-process with click's ``CliRunner``: test harness, not a command.
CLICK_ALLOWED = {"fupin.testing"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(body: list[ast.stmt], *, module_level: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements run when ``body`` runs: ``if TYPE_CHECKING:`` blocks never run.

    ``module_level``: only those run when the module is imported (not inside functions or classes).
    """
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _type_checking(node):
                yield from _imports(node.body, module_level=module_level)
            yield from _imports(node.orelse, module_level=module_level)
        elif isinstance(node, ast.Try | ast.With):
            for block in (node.body, getattr(node, "orelse", []), getattr(node, "finalbody", []),
                          *(h.body for h in getattr(node, "handlers", []))):
                yield from _imports(block, module_level=module_level)
        elif not module_level and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield from _imports(node.body, module_level=module_level)
        elif not module_level:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    yield from _imports([child], module_level=module_level)


def _targets(name: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """Absolute names ``node`` imports: a module's, or for ``from M import x`` the submodule ``M.x`` if it is one."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:
        package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
        parent = package.split(".")[: len(package.split(".")) - node.level + 1]
        base = ".".join([*parent, *([node.module] if node.module else [])])
    for alias in node.names:
        yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base


def import_graph() -> dict[str, set[str]]:
    """fupin's modules and the fupin modules each imports when it is itself imported."""
    graph = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        graph[name] = {t for node in _imports(tree.body, module_level=True) for t in _targets(name, node)
                       if t in MODULES and t != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as ``[a, b, ..., a]``, or None (depth-first search, sorted for a stable answer)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


class TestClick:
    def test_only_the_command_line_imports_click(self) -> None:
        """No module outside fupin.cli imports click, at module level or in a function (type-checking blocks aside)."""
        offenders = []
        for name, path in MODULES.items():
            if name == "fupin.cli" or name.startswith("fupin.cli.") or name in CLICK_ALLOWED:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in _imports(tree.body, module_level=False):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if any(n == "click" or n.startswith("click.") for n in names):
                    offenders.append(f"{path.relative_to(SRC.parent)}:{node.lineno}")
        assert offenders == []

    def test_the_walk_sees_function_local_imports(self) -> None:
        """The walk above finds an import inside a function, and skips one under TYPE_CHECKING."""
        tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import click\n"
                         "def f():\n    if True:\n        import click\n")
        found = [n.lineno for n in _imports(tree.body, module_level=False) if isinstance(n, ast.Import)]
        assert found == [6]


class TestImportCycles:
    def test_no_cycle_among_fupin_modules(self) -> None:
        """Module-level imports among fupin's modules form no cycle (function-local imports are not counted)."""
        cycle = find_cycle(import_graph())
        assert cycle is None, "import cycle: " + " -> ".join(cycle or [])

    def test_a_cycle_is_named(self) -> None:
        """The search names a cycle it is given, in order."""
        assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
        assert find_cycle({"a": {"b"}, "b": set()}) is None

    def test_domain_modules_do_not_import_the_command_line(self) -> None:
        """Nothing outside fupin.cli imports it, even in a function: the CLI depends on the library, never the reverse.

        ``fupin.testing`` aside: its ``cli`` fixture builds the command line.
        """
        users = []
        for name, path in MODULES.items():
            if name.startswith("fupin.cli") or name in CLICK_ALLOWED:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            users += [f"{name}:{node.lineno}" for node in _imports(tree.body, module_level=False)
                      if any(t == "fupin.cli" or t.startswith("fupin.cli.") for t in _targets(name, node))]
        assert users == []

    def test_cli_package_is_importable_as_before(self) -> None:
        """Plugins' ``from fupin.cli import pass_store, yuan_to_fen`` and the script's ``fupin.cli:main`` still work."""
        from fupin.cli import __all__ as public
        from fupin.cli import echo_json, main, make_cli, pass_store, yuan_to_fen

        assert {"echo_json", "main", "make_cli", "pass_store", "yuan_to_fen"} <= set(public)
        assert all(callable(f) for f in (echo_json, main, make_cli, pass_store))
        assert yuan_to_fen("1,234.5") == 123450


class TestCommandNames:
    """``fupin plugins`` lists a plugin's commands without click: the stand-in names them as click does."""

    @staticmethod
    def register(cli: Any) -> None:
        @cli.group("explicit")
        def _grp() -> None:
            """A group named explicitly, with a subcommand."""

        @_grp.command()
        def sub() -> None:
            """Not a top-level command."""

        @cli.command
        def bare() -> None:
            """Decorator without parentheses."""

        @cli.command(name="by-keyword")
        def _kw() -> None:
            """Named by keyword."""

        @cli.group()
        def show_all_group() -> None:
            """Named from the function, suffix dropped, underscores as dashes."""

        cli.add_command(click.Command("added", callback=lambda: None))
        cli.add_command(click.Command("ignored-name", callback=lambda: None), name="renamed")

    def test_same_names_as_click(self) -> None:
        """Every way of adding a command gives the names a real click group gets."""
        from fupin.hooks import _CommandNames

        real = click.Group("fupin")
        self.register(real)
        stand_in = _CommandNames()
        self.register(stand_in)
        assert sorted(stand_in.names) == sorted(real.commands)
        assert sorted(real.commands) == ["added", "bare", "by-keyword", "explicit", "renamed", "show-all"]


# -- the command line calls only the public face ----------------------------------------------------------

PUBLIC = fupin.PUBLIC_MODULES

#: What fupin.cli imports from outside the public face, each with why. Everything else it needs is
#: public (``fupin``, ``fupin.ext``); empty now: make a name public rather than grow this list.
CLI_ALLOWED: dict[str, str] = {}


def _cli_modules() -> dict[str, Path]:
    return {name: path for name, path in MODULES.items() if name == "fupin.cli" or name.startswith("fupin.cli.")}


def non_public_imports(name: str, path: Path) -> list[tuple[str, int]]:
    """``(what, line)`` for each fupin module or name ``name`` imports from outside the public face, functions included."""
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in _imports(tree.body, module_level=False):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names
                      if (a.name == "fupin" or a.name.startswith("fupin.")) and not _public_module(a.name)]
            continue
        for alias, target in zip(node.names, _targets(name, node), strict=True):
            if not (target == "fupin" or target.startswith("fupin.")):
                continue
            if target.startswith("fupin.") and target.endswith(f".{alias.name}") and target in MODULES:
                if not _public_module(target):  # a module imported by name: from fupin import audit
                    found.append((target, node.lineno))
            elif not _public_module(target):
                found.append((f"{target}.{alias.name}", node.lineno))
            elif target in PUBLIC and not alias.name.startswith("__") and alias.name not in _all(target):
                found.append((f"{target}.{alias.name}", node.lineno))  # a public module, a name it does not publish
    return found


def _public_module(module: str) -> bool:
    return module in PUBLIC or module.startswith("fupin.cli.")  # the command line's own modules


def _all(module: str) -> set[str]:
    import importlib

    return set(importlib.import_module(module).__all__)


class TestPublicFace:
    def test_cli_imports_only_public_names(self) -> None:
        """fupin.cli imports from fupin's public modules only (in functions too), apart from the commented allow-list."""
        found = {(what, f"{path.relative_to(SRC.parent)}:{line}")
                 for name, path in _cli_modules().items() for what, line in non_public_imports(name, path)}
        outside = sorted(f"{where}: {what}" for what, where in found if what not in CLI_ALLOWED)
        assert outside == [], "fupin.cli imports non-public names:\n" + "\n".join(outside)
        unused = sorted(set(CLI_ALLOWED) - {what for what, _ in found})
        assert unused == [], f"allowed but no longer imported (drop them from CLI_ALLOWED): {unused}"

    def test_the_check_sees_names_modules_and_local_imports(self, tmp_path: Path) -> None:
        """A private name, a private module imported by name and a function-local import are all found; public ones are not."""
        path = tmp_path / "probe.py"
        path.write_text("from fupin import Store, __version__\nfrom fupin import audit\nimport fupin.storage\n"
                        "def f():\n    from fupin.visits import due_list\n    from fupin import nothing_like_it\n",
                        encoding="utf-8")
        assert non_public_imports("fupin.cli.probe", path) == [
            ("fupin.audit", 2), ("fupin.storage", 3), ("fupin.visits.due_list", 5), ("fupin.nothing_like_it", 6),
        ]
