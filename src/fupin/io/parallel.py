"""Parse an import file in a forked worker process while the importing process writes.

Parsing and validating rows (cells to typed values, model classes, ID check
characters) is half of an import's work and needs no database; the other half
(bulk look-ups, plugin checks, writes) needs the open transaction. On a machine
with two cores the two halves run side by side: the worker reads the file and
sends back parsed chunks (records, or each row's problems), pickled, through a
pipe; the importing process checks and writes them as they come. The pipe holds
a chunk or two, so memory stays flat.

The worker is forked, so it inherits the import kind, the vocabulary and the
plugins without pickling them; only records travel, so their classes must be
importable by name (:func:`available` checks). They travel as plain tuples of
their field values (:func:`pack`): pickle's generic way for a slotted attrs
record (a dict of fields per record) costs more than parsing the row did.
"""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import attrs

from fupin.errors import FupinError

#: A parsed chunk: (row number, record or anything else picklable) pairs.
Chunk = Sequence[tuple[int, Any]]


def available(kind: Any) -> bool:
    """Whether ``kind``'s records can be parsed in a worker here (fork, picklable record classes)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    return all("<locals>" not in cls.__qualname__ for cls in kind.record_classes())


def parsed_in_worker(make_chunks: Callable[[], Iterable[Chunk]]) -> Iterator[list[tuple[int, Any]]]:
    """Yield the chunks ``make_chunks()`` yields, computed in a forked child process.

    An exception in the child is raised here; if this generator is closed
    early (the import failed), the child is stopped.
    """
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    worker = context.Process(target=_work, args=(make_chunks, send), daemon=True, name="fupin-import-parser")
    worker.start()
    send.close()
    try:
        while True:
            try:
                what, payload = pickle.loads(receive.recv_bytes())
            except EOFError:
                raise FupinError(f"导入解析进程意外退出 / the import's parsing process died (exit code {worker.exitcode})") from None
            if what == "chunk":
                yield unpack(payload)
            elif what == "done":
                return
            else:
                raise payload
    finally:
        receive.close()
        worker.join(timeout=5)
        if worker.is_alive():
            worker.kill()
            worker.join()


def _work(make_chunks: Callable[[], Iterable[Any]], send: Any) -> None:
    try:
        for chunk in make_chunks():
            send.send_bytes(pickle.dumps(("chunk", pack(chunk)), protocol=pickle.HIGHEST_PROTOCOL))
        send.send_bytes(pickle.dumps(("done", None)))
    except BrokenPipeError:
        pass  # the importing process stopped listening: it has failed already
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
        try:
            message = pickle.dumps(("error", exc))
        except Exception:  # an exception that cannot be pickled: send its text
            message = pickle.dumps(("error", FupinError(f"{type(exc).__name__}: {exc}")))
        try:
            send.send_bytes(message)
        except BrokenPipeError:
            pass
    finally:
        send.close()


_Packed = tuple[list[type], list[tuple[int, int, Any]]]


def pack(chunk: Chunk) -> _Packed:
    """``chunk`` with each slotted attrs record as (its class's index, tuple of field values).

    Tuples of strings, numbers and dates pickle several times faster than the
    records themselves, and :func:`unpack` restores a record with attrs' own
    ``__setstate__``, without running converters and validators again (they
    ran when the record was made). Anything else travels as it is.
    """
    classes: list[type] = []
    plans: dict[type, tuple[int, Any]] = {}
    out = []
    for row_no, item in chunk:
        cls = type(item)
        plan = plans.get(cls)
        if plan is None:
            getter = _field_values(cls)
            plan = plans[cls] = (-1, None) if getter is None else (len(classes), getter)
            if getter is not None:
                classes.append(cls)
        index, getter = plan
        out.append((row_no, index, item) if getter is None else (row_no, index, getter(item)))
    return classes, out


def unpack(packed: _Packed) -> list[tuple[int, Any]]:
    """The chunk :func:`pack` packed: (row number, record or anything else) pairs."""
    classes, rows = packed
    new = object.__new__
    restore = [cls.__setstate__ for cls in classes]
    out = []
    for row_no, index, values in rows:
        if index < 0:
            out.append((row_no, values))
        else:
            record = new(classes[index])
            restore[index](record, values)
            out.append((row_no, record))
    return out


def _field_values(cls: type) -> Any:
    """A getter of the field values of a slotted attrs class as a tuple, or None for other classes."""
    if not attrs.has(cls) or "__slots__" not in cls.__dict__ or "__setstate__" not in cls.__dict__:
        return None
    from fupin.io.kinds import field_values

    return field_values(tuple(f.name for f in attrs.fields(cls)))
