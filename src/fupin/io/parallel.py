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
importable by name (:func:`available` checks). They travel as columns of
their field values (:func:`pack`): pickle's generic way for a slotted attrs
record (a dict of fields per record) costs more than parsing the row did.
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import multiprocessing
import operator
import pickle
import types
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


#: A packed chunk: (row numbers, group index of each row, groups). A group is
#: (class, its fields' columns of values, the columns holding days as ordinals)
#: for slotted attrs records, or (None, [items], ()) for anything else.
_Packed = tuple[list[int], list[int], list[tuple[Any, list[Any], tuple[int, ...]]]]


def pack(chunk: Chunk) -> _Packed:
    """``chunk`` with its slotted attrs records as columns of their field values.

    Lists of strings and numbers pickle several times faster than the
    records themselves, and :func:`unpack` restores each record with attrs'
    own ``__setstate__``, without running converters and validators again
    (they ran when the record was made). A column of dates (or of dates and
    None) travels as ordinal numbers: a date pickles as a call of its class,
    each costing more to pickle and unpickle than the rest of its row. Anything
    else travels as it is.
    """
    row_numbers = [row_no for row_no, _ in chunk]
    items = [item for _, item in chunk]
    classes = list(dict.fromkeys(map(type, items)))
    if len(classes) == 1:
        return row_numbers, [0] * len(items), [_pack_group(classes[0], items)]
    at = {cls: i for i, cls in enumerate(classes)}
    order = [at[type(item)] for item in items]
    groups = [_pack_group(cls, [item for item in items if type(item) is cls]) for cls in classes]
    return row_numbers, order, groups


def _pack_group(cls: type, items: list[Any]) -> tuple[Any, list[Any], tuple[int, ...]]:
    plan = _plan(cls)
    if plan is None:
        return None, items, ()
    getters, maybe_dates = plan
    columns = [list(map(get, items)) for get in getters]
    dates = []
    for i in maybe_dates:
        kinds = set(map(type, columns[i]))
        if kinds == {dt.date}:
            columns[i] = list(map(dt.date.toordinal, columns[i]))
            dates.append(i)
        elif kinds == {dt.date, type(None)}:
            columns[i] = [None if day is None else day.toordinal() for day in columns[i]]
            dates.append(i)
    return cls, columns, tuple(dates)


def unpack(packed: _Packed) -> list[tuple[int, Any]]:
    """The chunk :func:`pack` packed: (row number, record or anything else) pairs."""
    row_numbers, order, groups = packed
    restored = []
    for group, (cls, columns, dates) in enumerate(groups):
        if cls is None:
            restored.append(columns)
            continue
        for i in dates:
            column = columns[i]
            columns[i] = list(map(dt.date.fromordinal, column)) if None not in column else [
                None if day is None else dt.date.fromordinal(day) for day in column
            ]
        restored.append(_restore(cls, columns, order.count(group)))
    if len(restored) == 1:
        return list(zip(row_numbers, restored[0]))
    nexts = [iter(items).__next__ for items in restored]
    return [(row_no, nexts[group]()) for row_no, group in zip(row_numbers, order)]


def _restore(cls: type, columns: list[list[Any]], count: int) -> list[Any]:
    """``count`` records of ``cls`` from columns of their field values, as attrs' ``__setstate__`` restores them.

    Each column goes into its slot in one pass at C speed (the slot's own
    setter mapped over the records), not a Python call per record and field.
    """
    records = [object.__new__(cls) for _ in range(count)]
    setters = _slot_setters(cls)
    if setters is None:  # a class whose __setstate__ does more (a cached hash to reset)
        restore = cls.__setstate__
        for record, values in zip(records, zip(*columns) if columns else [()] * count):
            restore(record, values)
        return records
    for put, column in zip(setters, columns):
        collections.deque(map(put, records, column), maxlen=0)
    return records


@functools.cache
def _slot_setters(cls: type) -> list[Any] | None:
    """The setter of each field's slot, in field order; None when restoring needs more than setting them."""
    names = [f.name for f in attrs.fields(cls)]
    slots = {slot for c in cls.__mro__ for slot in c.__dict__.get("__slots__", ())}
    if slots - set(names) - {"__weakref__"}:
        return None  # another slot (attrs' cached hash) that __setstate__ resets
    descriptors = [getattr(cls, name, None) for name in names]
    if not all(isinstance(d, types.MemberDescriptorType) for d in descriptors):
        return None
    return [d.__set__ for d in descriptors]


@functools.cache
def _plan(cls: type) -> tuple[list[Any], tuple[int, ...]] | None:
    """(a getter per field, the fields that may hold dates) of a slotted attrs class; None for other classes.

    A field may hold dates when its annotation names one; :func:`pack` still
    checks the values of each chunk (a datetime is not a date there).
    """
    if not attrs.has(cls) or "__slots__" not in cls.__dict__ or "__setstate__" not in cls.__dict__:
        return None
    fields = attrs.fields(cls)
    maybe_dates = tuple(i for i, f in enumerate(fields) if "date" in str(f.type).lower())
    return [operator.attrgetter(f.name) for f in fields], maybe_dates
