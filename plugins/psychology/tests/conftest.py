"""Fixtures of fupin-psychology's tests: the plugin registered on fupin's fixtures, a small village, a note key."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

import fupin_psychology
from fupin import get_plugin_manager

# The tests run with --import-mode=importlib: make the shared test data module importable.
sys.path.insert(0, str(Path(__file__).parent))
from psy_world import seed_village  # noqa: E402


@pytest.fixture
def pm() -> Any:
    """A fresh plugin manager: the built-in plugins and this one, nothing installed."""
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(fupin_psychology, name="psychology")
    return pm


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh note key in FUPIN_PSYCHOLOGY_KEY."""
    value = Fernet.generate_key().decode()
    monkeypatch.setenv("FUPIN_PSYCHOLOGY_KEY", value)
    return value


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FUPIN_PSYCHOLOGY_KEY", raising=False)


@pytest.fixture
def village(store: Any) -> tuple[Any, Any]:
    """(store, plan) with the small village."""
    return store, seed_village(store)


@pytest.fixture
def seed() -> Any:
    return seed_village
