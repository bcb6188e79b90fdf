"""Errors raised by the fupin library.

The library raises these and nothing else for bad input; the CLI turns them into
one-line messages and exit codes, so no user error ever prints a traceback.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class Problem:
    """One thing wrong with a value: which field, what value, and why.

    ``location`` says where the value came from when it came from a file
    (``"households.csv row 17"``); the library leaves it empty.
    """

    field: str
    reason: str
    value: object = None
    location: str = ""

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        shown = "" if self.value is None else f" = {self.value!r}"
        return f"{where}{self.field}{shown}: {self.reason}"


class FupinError(Exception):
    """Base of every error the library raises on purpose.

    ``exit_code`` is the command line's exit status for it (the CLI
    conventions): 1 refused input or unmet commitments, 3 permission denied, 4
    the environment (database unreachable or not initialised, a key or file
    missing). A plugin's own errors set it the same way.
    """

    exit_code = 1


class ValidationError(FupinError, ValueError):
    """A record is refused; ``problems`` lists every reason found.

    Subclasses ``ValueError`` so that attrs validators may raise it directly.
    """

    def __init__(self, problems: list[Problem] | Problem, *, record: str = "") -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        self.record = record
        super().__init__(str(self))

    def __str__(self) -> str:
        head = f"{self.record}: " if self.record else ""
        return head + "; ".join(str(p) for p in self.problems)

    @classmethod
    def of(cls, field: str, reason: str, value: object = None) -> ValidationError:
        """Shorthand for a single problem."""
        return cls(Problem(field, reason, value))


class NotFound(FupinError, LookupError):
    """A record asked for by its key does not exist."""


class PluginError(FupinError):
    """A plugin failed to load or register, or contributed something invalid."""


class PlanError(FupinError):
    """A plan file cannot be read or is not a valid plan."""


class StorageError(FupinError):
    """The database refused an operation or is not in the expected state."""

    exit_code = 4


class StaleRecord(FupinError):
    """An edit was based on a version of a record that someone else has changed since."""


class WriteFailed(FupinError):
    """A file or stream cannot be written: no such folder, no permission, the disk full.

    Exit status 4 (the environment).
    """

    exit_code = 4


class FontMissing(FupinError):
    """No font that draws Chinese is installed, so a chart cannot be drawn as an image (Word's charts).

    Exit status 4 (the environment): install fonts-noto-cjk (or Source Han Sans, WenQuanYi Micro Hei).
    """

    exit_code = 4
