"""The hook contract (fupin.hookspecs) is prefixed, typed and documented in docs/plugin_hooks.md."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fupin import hookspecs

DOCS = Path(__file__).resolve().parent.parent / "docs" / "plugin_hooks.md"


def _module_functions() -> dict[str, Callable[..., Any]]:
    return {
        name: obj
        for name, obj in vars(hookspecs).items()
        if inspect.isfunction(obj) and obj.__module__ == hookspecs.__name__
    }


def _specs() -> dict[str, Callable[..., Any]]:
    return {name: fn for name, fn in _module_functions().items() if name.startswith("fupin_")}


def _signature(fn: Callable[..., Any]) -> str:
    return f"{fn.__name__}({', '.join(inspect.signature(fn).parameters)})"


def _doc_headings() -> list[str]:
    return re.findall(r"^## (.+?)\s*$", DOCS.read_text(encoding="utf-8"), flags=re.MULTILINE)


SPECS = sorted(_specs())


class TestHookspecs:
    def test_there_are_specs(self) -> None:
        """The module defines hookspecs at all (guards the parametrised tests)."""
        assert len(SPECS) >= 7

    def test_every_function_is_prefixed(self) -> None:
        """hookspecs defines no function without the fupin_ prefix."""
        assert [name for name in _module_functions() if not name.startswith("fupin_")] == []

    @pytest.mark.parametrize("name", SPECS)
    def test_is_a_hookspec(self, name: str) -> None:
        """Each fupin_ function is marked as a spec of project fupin."""
        assert hasattr(_specs()[name], "fupin_spec")

    @pytest.mark.parametrize("name", SPECS)
    def test_has_docstring(self, name: str) -> None:
        """Each spec has a docstring (its contract)."""
        assert (inspect.getdoc(_specs()[name]) or "").strip()

    @pytest.mark.parametrize("name", SPECS)
    def test_is_annotated(self, name: str) -> None:
        """Each spec annotates every argument and its return type."""
        sig = inspect.signature(_specs()[name])
        assert sig.return_annotation is not inspect.Signature.empty
        assert [p for p, param in sig.parameters.items() if param.annotation is inspect.Parameter.empty] == []


class TestDocs:
    @pytest.mark.parametrize("name", SPECS)
    def test_hook_is_documented_with_its_signature(self, name: str) -> None:
        """docs/plugin_hooks.md has a heading with the spec's exact signature."""
        assert _signature(_specs()[name]) in _doc_headings()

    def test_no_stale_headings(self) -> None:
        """Every ## heading in the docs is the signature of an existing hook."""
        current = {_signature(fn) for fn in _specs().values()}
        assert [h for h in _doc_headings() if h not in current] == []
