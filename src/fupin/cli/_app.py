"""What every command shares: the context, ``pass_store``, ``echo_json`` and failure handling.

Whatever goes wrong after the options are parsed becomes one line on stderr and
an exit status (:func:`failure`; the exit codes are listed in ``fupin --help``
and the README); no error prints a traceback unless ``FUPIN_DEBUG=1``.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, TextIO

import click

import fupin
from fupin import StorageError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Context:
    """What every command may need: the plugin manager, and a store opened on first use."""

    def __init__(self, pm: Any, db: str | None, actor: str | None, progress: bool = False) -> None:
        self.pm = pm
        self.db = db
        self.actor_text = actor
        #: ``--progress``: long commands print progress lines on stderr even when it is not a terminal.
        self.progress = progress
        self._store: Any = None

    def store(self, *, init: bool = False) -> Any:
        from fupin import Actor, Store

        if self._store is None:
            requested = Actor.parse(self.actor_text) if self.actor_text else None
            opened = Store.open(self.db, pm=self.pm)
            click.get_current_context().call_on_close(opened.close)
            if not init and not opened.is_initialised():
                raise StorageError(f"数据库未初始化 / database not initialised: {opened.url} (run `fupin init`)")
            # Who acts: on PostgreSQL the login decides (--as chooses among its users), on SQLite --as says.
            self._store = opened.acting_as(opened.login_actor(requested))
        return self._store


def pass_store(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for commands (plugins' too): passes the opened, initialised store first."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        context = click.get_current_context().find_object(Context)
        assert context is not None, "pass_store outside fupin's command line"
        return func(context.store(), *args, **kwargs)

    return wrapper


#: ``ctx.meta`` keys: the arguments after the group's options; whether the command is being run; the watched stdout.
_ARGS = "fupin.args"
_INVOKING = "fupin.invoking"
_STDOUT = "fupin.stdout"


def echo_json(data: Any) -> None:
    """Print ``data`` as one JSON document on stdout (for ``--json``): UTF-8 text, indented, dates as ISO text.

    A command that printed its document and then fails prints no second one:
    its error goes to stderr only (so does any output on stdout, see :class:`FupinGroup`).
    """
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


class _Failed(click.ClickException):
    """A one-line message with the exit status its cause has (``FupinError.exit_code``)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click keeps it on the class; this one is the cause's


class _Watched:
    """``sys.stdout`` while a ``--json`` command runs: notes whether anything was written to it.

    Text (``print``, ``click.echo``) and bytes (through ``.buffer``, as ``fupin
    export`` writes) alike; everything else is the stream's own.
    """

    def __init__(self, stream: Any, parent: _Watched | None = None) -> None:
        self._stream = stream
        self._root = parent or self
        self.written = False

    def write(self, data: Any) -> int:
        count: int = self._stream.write(data)
        if data:
            self._root.written = True
        return count

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    @property
    def buffer(self) -> _Watched:
        return _Watched(self._stream.buffer, self._root)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class FupinGroup(click.Group):
    """Turns every error into one line on stderr and an exit status, never a traceback.

    The status is the one :func:`failure` gives. With ``--json`` among the
    arguments, a command that failed before printing anything on stdout prints
    ``{"error": ..., "exit_code": ...}`` there, so stdout is always one JSON
    document; one that printed (its document, with :func:`echo_json` or
    otherwise) and then failed gets its error on stderr only.
    ``FUPIN_DEBUG=1`` also prints the traceback, for developers.
    """

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        ctx.meta[_ARGS] = list(args)  # the command's own arguments, for the failure's JSON document
        if ctx.meta.get(_INVOKING) and _wants_json(args) and _STDOUT not in ctx.meta:
            # Resolved as the command is about to run: from now on stdout is watched.
            ctx.meta[_STDOUT] = sys.stdout = _Watched(sys.stdout)
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        ctx.meta[_INVOKING] = True
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Abort, click.exceptions.Exit):
            raise
        except Exception as exc:
            if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
                raise  # a reader that went away (fupin export | head): click ends quietly
            obj = ctx.find_object(Context)
            message, code = failure(exc, obj.db if obj is not None else None)
            if debugging():
                traceback.print_exc()
            watched = ctx.meta.get(_STDOUT)
            if watched is not None and not watched.written:
                echo_json({"error": message, "exit_code": code})
            raise _Failed(message, code) from None
        finally:
            watched = ctx.meta.pop(_STDOUT, None)
            if watched is not None and sys.stdout is watched:
                sys.stdout = watched._stream


def _wants_json(args: list[str]) -> bool:
    """Whether the command was asked for JSON: ``--json``, or ``--format json`` (``fupin report``)."""
    pairs = zip(args, args[1:])
    return "--json" in args or "--format=json" in args or ("--format", "json") in pairs


#: Exit status of an internal error (a bug in fupin or a plugin): sysexits.h's EX_SOFTWARE.
INTERNAL_ERROR = fupin.INTERNAL_ERROR


def debugging() -> bool:
    """Whether ``FUPIN_DEBUG`` asks for tracebacks (any value but empty, 0, false, no, off)."""
    return os.environ.get("FUPIN_DEBUG", "").strip().lower() not in ("", "0", "false", "no", "off")


def failure(exc: BaseException, db: str | None = None) -> tuple[str, int]:
    """The one line and the exit status the command line gives for ``exc`` (:func:`fupin.describe_failure`)."""
    return fupin.describe_failure(exc, db)


def os_reason(exc: OSError) -> str:
    """What an operating-system error means to a user (:func:`fupin.describe_os_error`)."""
    return fupin.describe_os_error(exc)


class Progress:
    """How far a long command is, on stderr: a bar on a terminal, plain lines with ``--progress`` elsewhere.

    Call it with ``(done, total)`` as the work goes (the library's ``progress``
    callbacks take exactly that); :meth:`close` ends the bar or prints the last
    line. On a terminal: click's bar with the total, the percentage and the
    time left. Elsewhere, with ``lines``: ``label: done/total (pct%), 剩余 /
    left H:MM:SS`` every ``every`` seconds or each tenth of the work. Otherwise
    nothing. Never on stdout, which stays data.
    """

    def __init__(self, label: str, *, lines: bool = False, file: TextIO | None = None, every: float = 5.0) -> None:
        self.label = label
        self.file = file if file is not None else sys.stderr
        self.terminal = bool(getattr(self.file, "isatty", lambda: False)())
        self.lines = lines and not self.terminal
        self.every = every
        self.started = time.monotonic()
        self._bar: Any = None
        self._shown_at = self.started
        self._shown_tenth = 0
        self.done = self.total = 0

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, max(total, done)
        if self.terminal:
            if self._bar is None:
                self._bar = click.progressbar(length=max(self.total, 1), label=self.label, file=self.file,
                                              show_percent=True, show_eta=True, show_pos=True)
                self._bar.__enter__()
            self._bar.length = max(self.total, 1)
            self._bar.update(done - self._bar.pos)
        elif self.lines:
            now = time.monotonic()
            tenth = done * 10 // self.total if self.total else 0
            if now - self._shown_at >= self.every or tenth > self._shown_tenth:
                self._shown_at, self._shown_tenth = now, tenth
                self._line()

    def _line(self) -> None:
        percent = self.done * 100 // self.total if self.total else 100
        elapsed = time.monotonic() - self.started
        left = int(elapsed / self.done * (self.total - self.done)) if self.done else 0
        click.echo(f"{self.label}: {self.done}/{self.total} ({percent}%), 剩余 / left "
                   f"{left // 3600}:{left // 60 % 60:02d}:{left % 60:02d}", file=self.file)

    def close(self) -> None:
        """End the bar (a terminal) or print the last line (``lines``), if anything was reported."""
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
        elif self.lines and self.total and self._shown_tenth < 10:
            self._shown_tenth = 10
            self._line()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def progress(label: str, *, file: TextIO | None = None, every: float = 5.0) -> Progress:
    """A :class:`Progress` for the running command: plain lines too if ``fupin --progress`` was given.

    For plugin commands as for fupin's: ``with progress("导入 / import x") as report: do(progress=report)``.
    """
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_object(Context) if ctx is not None else None
    return Progress(label, lines=bool(obj is not None and obj.progress), file=file, every=every)
