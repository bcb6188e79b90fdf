"""The ``fupin lifesci`` commands."""

from __future__ import annotations

import attrs
import click

from fupin_lifesci.soil import soil_testing_kind


@click.group()
def lifesci() -> None:
    """College of Life Sciences (生命科学学院): soil testing."""


@lifesci.command()
def info() -> None:
    """Show the soil-testing action kind.

    Example: fupin lifesci info
    """
    kind = soil_testing_kind()
    click.echo(f"{kind.name}  {kind.label_zh} / {kind.label_en}")
    click.echo(f"beneficiaries: {', '.join(kind.beneficiary_types)}")
    click.echo(f"quantities: {', '.join(kind.quantities)}")
    if kind.details is not None:
        click.echo(f"details: {', '.join(f.name for f in attrs.fields(kind.details))}")
