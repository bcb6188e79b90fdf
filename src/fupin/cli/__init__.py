"""The ``fupin`` command line (click): a thin layer over the library.

``make_cli(pm)`` builds the command group for a plugin manager, so tests build
one per test and plugins add their commands through ``fupin_register_commands``.
Whatever goes wrong after the options are parsed becomes one line on stderr and
an exit status (the exit codes are listed in ``fupin --help`` and the README);
no error prints a traceback unless ``FUPIN_DEBUG=1``.

For plugin commands:

- :func:`pass_store`: decorator passing the opened, initialised store first;
- :func:`echo_json`: print one JSON document (``--json``);
- :func:`yuan_to_fen`: parse an amount in yuan into integer fen;
- :func:`progress`: report how far a long command is, on stderr (a bar on a terminal,
  lines with ``fupin --progress``), as a ``(done, total)`` callback.

The commands live one group per module (``fupin.cli.imports``,
``fupin.cli.campaign`` ...); only the names above are public.
"""

from __future__ import annotations

from fupin.cli._app import Progress, echo_json, pass_store, progress
from fupin.cli._main import main, make_cli
from fupin import yuan_to_fen

__all__ = ["Progress", "echo_json", "main", "make_cli", "pass_store", "progress", "yuan_to_fen"]
