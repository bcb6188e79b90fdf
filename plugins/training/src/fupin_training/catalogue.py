"""The technique catalogue (农村实用技术) and the other value lists of the plugin.

The lists are data, in ``vocabularies.toml`` beside this module (its header
documents them), returned from ``fupin_vocabularies`` so they merge over
fupin's own lists. A technique's code is ``AREA.NAME``: its area is the part
before the dot (``fruit_trees.blueberry`` -> ``fruit_trees``), the areas
being the codes of the list ``training_technique_area`` that the C20
commitment's ``topics`` name.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from fupin import ValidationError, Vocabulary

#: The plugin's vocabulary file.
VOCABULARY_FILE = Path(__file__).parent / "vocabularies.toml"

TECHNIQUES = "training_technique"
AREAS = "training_technique_area"
PARTY_FORMATS = "training_party_format"
RESULTS = "training_result"


@functools.cache
def packaged() -> Vocabulary:
    """The plugin's own lists (without fupin's), read once.

    Details classes validate against it: an attrs validator has no store at
    hand, so it cannot see extensions other plugins add (see :func:`technique_code`).
    """
    return Vocabulary.from_toml(VOCABULARY_FILE)


def area_of(technique: str) -> str:
    """The area code of a technique code: ``"crops.tobacco"`` -> ``"crops"``."""
    return technique.split(".", 1)[0]


def technique_code(value: Any) -> Any:
    """Converter: a technique named by code, Chinese label, English name or alias -> its code.

    A value the packaged catalogue does not know is kept as given (stripped),
    so a well-formed code of an extension (``livestock.yak``) passes and the
    validator can name a wrong one.
    """
    if not isinstance(value, str):
        return value
    term = packaged().find(TECHNIQUES, value)
    return term.code if term is not None else value.strip()


def check_technique(_inst: object, attr: Any, value: str) -> None:
    """Validator: a code of the catalogue, or ``AREA.NAME`` with a known area."""
    if not isinstance(value, str) or not value:
        raise ValidationError.of(attr.name, "必填 / required", value)
    if packaged().find(TECHNIQUES, value) is not None:
        return
    area, dot, name = value.partition(".")
    if dot and name and area in codes(AREAS):
        return
    known = "、".join(t.zh for t in packaged().terms(TECHNIQUES)[:8])
    raise ValidationError.of(
        attr.name, f"未知技术, 应为技术目录中的一项或 领域.名称 / unknown technique; e.g. {known} …, or AREA.NAME", value
    )


def optional_technique(inst: object, attr: Any, value: str) -> None:
    """Validator: empty, or a technique as :func:`check_technique` accepts."""
    if value:
        check_technique(inst, attr, value)


def code_in(list_name: str) -> Any:
    """Converter: a value of ``list_name`` named by code, label or alias -> its code (unknown kept as given)."""

    def convert(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        term = packaged().find(list_name, value)
        return term.code if term is not None else value.strip()

    return convert


def codes(list_name: str) -> tuple[str, ...]:
    """The codes of a packaged list."""
    return tuple(t.code for t in packaged().terms(list_name))


def label(vocab: Vocabulary | None, list_name: str, code: str, lang: str = "zh") -> str:
    """The label of ``code`` in ``vocab`` (the store's, extensions included), or the code itself."""
    for source in (vocab, packaged()):
        if source is None:
            continue
        try:
            term = source.find(list_name, code)
        except KeyError:
            continue
        if term is not None:
            return term.en if lang == "en" else term.zh
    return code


def area_label(vocab: Vocabulary | None, area: str, lang: str = "zh") -> str:
    """The label of a technique area."""
    return label(vocab, AREAS, area, lang)
