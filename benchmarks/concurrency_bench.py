"""Concurrency benchmark: one Store shared by 20 threads, mixed reads and small imports, against the same mix on 1 thread.

Usage::

    python benchmarks/concurrency_bench.py [--threads 20] [--requests 50] [--households 100]
                                           [--pairs 3] [--postgres URL] [--workdir DIR] [--keep]

A web platform embeds fupin as one :class:`fupin.Store` per process and serves each
request on a worker thread as ``store.acting_as(actor)``. This drives that pattern:

Set-up (not timed): a fresh database (a SQLite file; with ``--postgres`` also a new
``fupin_bench_<random>_threads`` database on that server) initialised with
``Store.init``; the reference plan's village (拖木村, four villager groups), its helping
unit and two cadres, the plan, ``--households`` households imported from a CSV
stream (``store.import_file``), each paired with a cadre (``store.pair``); a second
user (the plan office) besides the administrator.

Timed: ``--threads`` threads, each running ``--requests`` requests in a fixed
rotation, every third one through the shared store, the others through an
``acting_as`` copy made for the request (as the administrator or the plan office):

* a household card (``store.household_card``), three times in eight;
* the support actions of a kind (``store.actions``);
* the visit worklist (``store.worklist``);
* a small import: three new households from a CSV upload (``store.import_file`` from a
  binary stream with a name), twice in eight;
* a support action recorded (``store.record_action``).

Then the same number of requests on one thread (the baseline), in the same database:
ABAB, ``--pairs`` times. Each request's latency is measured; an exception is an error
(counted, and the first of each kind printed). Every run must finish within a deadline
(a hang is reported as such, with exit status 1). After the runs the audit chain is
verified.

Per backend it prints a line ``backend=sqlite threads=20 requests=... errors=0
requests_per_s=... p99_ms=...`` for the threads (all pairs together) and the same for
one thread, then ``ratio=...``: the median over the pairs of the threads' requests per
second over one thread's. The last line has every figure as ``key=value``; see
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import statistics
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_bench import PostgresDatabases, database_options, in_workdir  # noqa: E402  (a sibling script)

import fupin  # noqa: E402
from fupin import Actor, Area, Cadre, Pairing, Store, SupportAction, Unit, User  # noqa: E402

PLAN = "qjnu-tuomu"
VILLAGE = "530326106200"
GROUPS = ("大沟边", "发和落", "拖木", "小瓦窑")
ADMIN = Actor("BENCH", "admin")
OFFICE = Actor("QJNU", "office")
HEADER = ["户编号", "村民小组代码", "户主姓名", "贫困户属性", "主要致贫原因", "脱贫状态"]
#: Seconds one run may take before it is called a hang.
DEADLINE = 600


def group(n: int) -> str:
    return f"{VILLAGE}{n:02d}"


def household(g: int, seq: int) -> str:
    return f"{group(g)}{seq:05d}"


def households_csv(numbers: list[str]) -> bytes:
    """A CSV file of new households, as an upload's bytes."""
    text = io.StringIO()
    csv.writer(text).writerows([HEADER, *([n, n[:14], f"户主{n[-5:]}", "一般贫困户", "缺技术", "未脱贫"] for n in numbers)])
    return text.getvalue().encode("utf-8")


def build(url: str, households: int) -> tuple[Store, Any, list[str]]:
    """The set-up: a store on ``url`` with the village, plan, cadres, households and pairings."""
    store = Store.open(url, actor=ADMIN)
    store.init()
    plan = fupin.load_plan(PLAN)
    vocab = store.vocab
    with store.transaction():
        store.add_areas([
            Area("530000", "云南省", "province"), Area("530300", "曲靖市", "city", "530000"),
            Area("530326", "会泽县", "county", "530300"), Area("530326106", "者海镇", "town", "530326"),
            Area(VILLAGE, "拖木村", "village", "530326106"),
            *(Area(group(i + 1), name, "group", VILLAGE) for i, name in enumerate(GROUPS)),
        ])
        store.add_unit(Unit.new(code="QJNU", name="曲靖师范学院", kind="university", vocab=vocab))
        for code, rank in (("QJNU-C001", "厅级"), ("QJNU-C002", "处级")):
            store.add_cadre(Cadre.new(code=code, name=f"干部{code[-3:]}", unit="QJNU", rank=rank, vocab=vocab))
    store.save_plan(plan)
    plan = store.plan(PLAN)
    numbers = [household(1 + i % len(GROUPS), i) for i in range(households)]
    result = store.import_file("households", io.BytesIO(households_csv(numbers)), name="households.csv")
    assert result.committed and not result.errors, result.errors
    with store.transaction():
        for i, number in enumerate(numbers):
            store.pair(Pairing.new(vocab=vocab, level="帮户", start="2015-08-20", cadre=f"QJNU-C00{1 + i % 2}",
                                           household=number, kind="重点帮扶", plan=PLAN))
    store.add_user(User(OFFICE.unit, OFFICE.user, ("plan_office",)))
    return store, plan, numbers


class Mix:
    """The requests, in a fixed rotation; new household numbers and action refs never repeat."""

    def __init__(self, store: Store, plan: Any, numbers: list[str]) -> None:
        self.store, self.plan, self.numbers = store, plan, numbers
        self.serial = 0
        self.lock = threading.Lock()
        self.requests: list[Callable[[Store, int], Any]] = [
            self.card, self.small_import, self.actions, self.card, self.worklist, self.record, self.card, self.small_import,
        ]

    def next_serial(self) -> int:
        with self.lock:
            self.serial += 1
            return self.serial

    def card(self, store: Store, n: int) -> Any:
        return store.household_card(self.numbers[n % len(self.numbers)])

    def actions(self, store: Store, n: int) -> Any:
        return list(store.actions(kind="core.meeting"))

    def worklist(self, store: Store, n: int) -> Any:
        return store.worklist(self.plan, as_of=dt.date(2016, 3, 1))

    def small_import(self, store: Store, n: int) -> Any:
        serial = self.next_serial()
        numbers = [household(1 + k, 50_000 + 3 * serial + k) for k in range(3)]
        # As a platform imports an upload: from a binary stream with its file name.
        result = store.import_file("households", io.BytesIO(households_csv(numbers)), name=f"upload-{serial}.csv")
        if not result.committed or result.errors:
            raise RuntimeError(f"import not committed: {result.errors[:1]}")
        return result

    def record(self, store: Store, n: int) -> Any:
        kind = store.hooks.action_kind("core.meeting")
        return store.record_action(SupportAction.new(kind, start="2016-03-01", unit="QJNU", details={"topic": "座谈"},
                                                     ref=f"BENCH-{self.next_serial():07d}"))

    def store_for(self, n: int) -> Store:
        """The shared store, or a copy for this request as the administrator or the plan office."""
        return (self.store, self.store.acting_as(ADMIN), self.store.acting_as(OFFICE))[n % 3]


class Run:
    """One timed run: latencies, errors, wall time."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self.seconds = 0.0
        self.hung = 0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run(mix: Mix, threads: int, per_thread: int) -> Run:
    """``threads`` threads of ``per_thread`` requests each, released together."""
    result = Run(threads)
    go = threading.Barrier(threads + 1)
    lock = threading.Lock()

    def work(i: int) -> None:
        go.wait()
        mine: list[float] = []
        for j in range(per_thread):
            n = i * per_thread + j + i  # each thread starts at another place in the rotation
            request = mix.requests[n % len(mix.requests)]
            started = time.perf_counter()
            try:
                request(mix.store_for(n), n)
            except Exception as exc:  # counted and reported
                with lock:
                    where = traceback.extract_tb(exc.__traceback__)[-1]
                    key = f"{request.__name__}: {type(exc).__name__}: {str(exc)[:200]} (at {Path(where.filename).name}:{where.lineno})"
                    if not result.errors[key]:
                        print(f"  ERROR {key}", flush=True)
                    result.errors[key] += 1
            mine.append(time.perf_counter() - started)
        with lock:
            result.latencies.extend(mine)

    workers = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(threads)]
    for w in workers:
        w.start()
    go.wait()
    started = time.perf_counter()
    end = time.monotonic() + DEADLINE
    for w in workers:
        w.join(max(0.0, end - time.monotonic()))
    result.seconds = time.perf_counter() - started
    result.hung = sum(w.is_alive() for w in workers)
    return result


def p99_ms(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else 0.0


def line(backend: str, runs: list[Run]) -> str:
    requests = sum(r.requests for r in runs)
    seconds = sum(r.seconds for r in runs)
    errors = sum(sum(r.errors.values()) for r in runs)
    latencies = [x for r in runs for x in r.latencies]
    return (f"backend={backend} threads={runs[0].threads} requests={requests} errors={errors} "
            f"requests_per_s={requests / seconds:.1f} p99_ms={p99_ms(latencies):.1f}")


def measure(backend: str, url: str, args: argparse.Namespace) -> tuple[dict[str, str], bool]:
    """Set up on ``url``, then ABAB: threads, one thread, ``--pairs`` times. Returns the figures and whether all was well."""
    print(f"\n== {backend} ==", flush=True)
    started = time.perf_counter()
    store, plan, numbers = build(url, args.households)
    print(f"set-up: {len(numbers)} households paired, in {time.perf_counter() - started:.1f} s", flush=True)
    try:
        mix = Mix(store, plan, numbers)
        many: list[Run] = []
        one: list[Run] = []
        ratios: list[float] = []
        for pair in range(args.pairs):
            a = run(mix, args.threads, args.requests)
            b = run(mix, 1, args.threads * args.requests)
            many.append(a)
            one.append(b)
            ratios.append(a.requests_per_s / b.requests_per_s if b.requests_per_s else float("nan"))
            print(f"pair {pair + 1}: {args.threads} threads {a.requests_per_s:.1f} req/s (p99 {p99_ms(a.latencies):.0f} ms, "
                  f"{sum(a.errors.values())} errors{f', {a.hung} HUNG' if a.hung else ''}); 1 thread {b.requests_per_s:.1f} req/s "
                  f"(p99 {p99_ms(b.latencies):.0f} ms, {sum(b.errors.values())} errors); ratio {ratios[-1]:.2f}", flush=True)
        with store.engine.connect() as conn:
            verdict = fupin.audit.verify(conn)
        print(line(backend, many))
        print(line(backend, one))
        ratio = statistics.median(ratios)
        print(f"backend={backend} ratio={ratio:.2f} (requests per second, {args.threads} threads over 1 thread; median of "
              f"{args.pairs} pairs: {', '.join(f'{r:.2f}' for r in ratios)}) audit_chain={'ok' if verdict.ok else 'BROKEN'}", flush=True)
        errors = sum(sum(r.errors.values()) for r in many + one)
        hung = sum(r.hung for r in many + one)
        prefix = "" if backend == "sqlite" else f"{backend}_"
        figures = {
            f"{prefix}errors": str(errors),
            f"{prefix}requests_per_s": f"{sum(r.requests for r in many) / sum(r.seconds for r in many):.1f}",
            f"{prefix}p99_ms": f"{p99_ms([x for r in many for x in r.latencies]):.1f}",
            f"{prefix}one_thread_requests_per_s": f"{sum(r.requests for r in one) / sum(r.seconds for r in one):.1f}",
            f"{prefix}one_thread_p99_ms": f"{p99_ms([x for r in one for x in r.latencies]):.1f}",
            f"{prefix}ratio": f"{ratio:.2f}",
        }
        return figures, errors == 0 and hung == 0 and verdict.ok
    finally:
        store.close()


def benchmark(args: argparse.Namespace, workdir: Path) -> int:
    figures = {"threads": str(args.threads), "requests": str(args.threads * args.requests * args.pairs)}
    found, ok = measure("sqlite", f"sqlite:///{workdir / 'threads.db'}", args)
    figures.update(found)
    if args.postgres:
        with PostgresDatabases(args.postgres, args.keep) as pg:
            found, pg_ok = measure("postgres", pg.create("threads")["url"], args)
        figures.update(found)
        ok = ok and pg_ok
    print(" ".join(f"{k}={v}" for k, v in figures.items()), flush=True)
    return 0 if ok else 1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="One Store shared by many threads (mixed reads and small imports) against the same mix on one thread.")
    parser.add_argument("--threads", type=int, default=20, help="threads sharing the store")
    parser.add_argument("--requests", type=int, default=50, help="requests per thread (the one-thread run does threads x requests)")
    parser.add_argument("--households", type=int, default=100, help="households registered and paired in the set-up")
    parser.add_argument("--pairs", type=int, default=3, help="runs of threads then one thread (ABAB); the median of their ratios is reported")
    database_options(parser)
    args = parser.parse_args(argv)
    if min(args.threads, args.requests, args.households, args.pairs) < 1:
        parser.error("--threads, --requests, --households and --pairs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    return in_workdir(parse_args(sys.argv[1:] if argv is None else argv), "fupin-concurrency-bench-", benchmark)


if __name__ == "__main__":
    sys.exit(main())
