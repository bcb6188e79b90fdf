"""Import benchmark: ``fupin import`` against a minimal raw loader, on the same files in the same run.

Usage::

    python benchmarks/import_bench.py [--households 250000] [--seed 1] [--pairs 3] [--workdir DIR]
                                      [--postgres URL] [--scales 25000,50000,100000] [--keep]

Steps:

1. Write a synthetic province as import files (``Synthesizer.write_files``): areas.csv,
   households.csv, persons.csv (and tags.csv, not imported here).
2. (a) The raw loader: a child process parses the CSV files with the ``csv`` module and
   inserts the same rows into the same tables of a freshly initialised database (areas,
   households, household_status, persons) in one transaction, with no validation:
   ``sqlite3`` ``executemany`` on SQLite, psycopg ``COPY`` on PostgreSQL.
3. (b) ``fupin import areas|households|persons FILE`` into another fresh database, run as
   the real command line (one process per file).
4. Steps 2 and 3 alternate ``--pairs`` times on each backend (raw, fupin, raw, fupin ...:
   ABAB), each load into a fresh database, so a busy neighbour slows both sides alike.
5. Print rows, seconds, rows/s and peak memory of each, the ratio fupin/raw of each pair,
   and a final line of ``key=value`` figures: the ratios are the **median of the pairs'
   ratios**, the other figures those of the pair with the median ratio.

Every load runs in its own child process: this script in a hidden mode (``--raw-sqlite``,
``--raw-postgres``, ``--generate``, or ``--fupin ARGS...``, which runs the ``fupin`` command
line in-process). It is timed by wall clock from here, interpreter start-up included on
both sides. Its peak memory is the larger of

* the peak of the summed PSS (proportional set size) of the child and every process it
  starts, sampled every 250 ms from ``/proc``: ``fupin import`` parses large files in a
  forked worker, whose memory counts too, and PSS counts pages the fork still shares once;
* the child's own peak resident set, ``VmHWM`` from ``/proc/self/status``, which it
  writes to a file at exit (a spike between two samples is not missed).

Not ``ru_maxrss``: a child's ``ru_maxrss`` (its own ``getrusage`` or the parent's
``wait4``) starts at the RSS of the parent it was forked from, so it measures the
launcher too. Without ``/proc`` (macOS) the child's ``ru_maxrss`` is the fallback, and
the launcher is kept small for it (it never imports fupin); a worker is then not counted.

``fupin init`` runs before each load and is not timed. The machines are noisy, so only
the ratios are meant to be compared between runs; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import atexit
import csv
import dataclasses
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: This script run as a child process in one of its hidden modes.
CHILD = [sys.executable, __file__]
#: The ``fupin`` command line, run by this script in a child (``--fupin``) to report its peak memory.
FUPIN = [*CHILD, "--fupin"]
#: The file where a child writes its peak memory (set by :func:`run_measured`).
REPORT_ENV = "IMPORT_BENCH_REPORT"
#: The import kinds fupin imports, in dependency order; each from the file of the same name.
IMPORTED = ("areas", "households", "persons")
#: The tables both loads write, whose row counts must agree afterwards.
WRITTEN_TABLES = ("areas", "households", "household_status", "persons")
#: What the store writes as the first status entry of a registered household.
STATUS_REASON = "登记 / registered"
#: 层级 labels of the area files -> the level codes stored.
AREA_LEVELS = {"省": "province", "市": "city", "县": "county", "乡镇": "town", "行政村": "village", "村民小组": "group"}
YES_NO = {"是": 1, "否": 0}


# -- measuring a child process --------------------------------------------------


def own_peak_mb() -> float:
    """This process's peak resident memory in MB.

    Linux: ``VmHWM``, the peak of this program since it was exec'd. Elsewhere
    ``ru_maxrss``, which also counts the parent this process was forked from.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return maxrss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def maxrss_mb(maxrss: int) -> float:
    """``ru_maxrss`` in MB (Linux reports kilobytes, macOS bytes)."""
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


def report_peak_at_exit() -> None:
    """In a child: write this process's peak memory to the report file when it exits."""

    def write() -> None:
        path = os.environ.get(REPORT_ENV)
        if path:
            Path(path).write_text(json.dumps({"peak_mb": own_peak_mb()}), encoding="utf-8")

    atexit.register(write)


class TreeMemory(threading.Thread):
    """Samples the memory of a process and all its descendants until stopped; keeps the peak.

    Memory is the sum of each process's PSS (``/proc/PID/smaps_rollup``, Linux 4.14+),
    else of its RSS. Without ``/proc`` the peak stays 0.

    Every 250 ms: the kernel takes about 2 ms to total the PSS of a 100 MB
    process, so sampling every 50 ms took a tenth of a core from the loads
    measured on a two-core machine (PostgreSQL persons 12.5 s against 11.1 s),
    and found the same peaks (imports stream: their memory is flat).
    """

    def __init__(self, pid: int, interval: float = 0.25):
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_mb = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        while True:
            total_kb = sum(process_memory_kb(pid) for pid in [self.pid, *descendants(self.pid)])
            self.peak_mb = max(self.peak_mb, total_kb / 1024)
            if self._done.wait(self.interval):
                return

    def stop(self) -> float:
        """Stop sampling; returns the peak in MB."""
        self._done.set()
        self.join()
        return self.peak_mb


def descendants(pid: int) -> list[int]:
    """The children of ``pid``, their children and so on (Linux ``/proc``; [] if unreadable)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{parent}/task/{tid}/children", encoding="ascii") as f:
                    children = [int(c) for c in f.read().split()]
            except OSError:
                continue
            found += children
            todo += children
    return found


def process_memory_kb(pid: int) -> int:
    """PSS of ``pid`` in kB (RSS where smaps_rollup is missing); 0 if it is gone."""
    for path, key in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        try:
            with open(path, encoding="ascii") as f:
                for line in f:
                    if line.startswith(key):
                        return int(line.split()[1])
        except OSError:
            continue
    return 0


@dataclasses.dataclass
class Run:
    """A finished child process: exit code, wall-clock seconds, peak memory and output."""

    command: list[str]
    returncode: int
    seconds: float
    peak_mb: float
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        """Whether the process exited with status 0."""
        return self.returncode == 0

    def failure(self) -> str:
        """The command and the end of its output, for an error message."""
        tail = "\n".join((self.stderr or self.stdout).strip().splitlines()[-15:])
        return f"$ {' '.join(self.command)}\nexit status {self.returncode}\n{tail}"


def run_measured(command: list[str], workdir: Path) -> Run:
    """Run ``command`` (a :data:`CHILD` mode) and measure its wall-clock time and peak memory.

    The peak is the larger of the sampled peak of the process tree (:class:`TreeMemory`)
    and the one the child writes at exit (:func:`report_peak_at_exit`); if the child
    wrote none (it crashed), ``wait4``'s ``ru_maxrss``, an overestimate, stands in for
    the latter. Output goes to files, not pipes, so a chatty child cannot block.
    """
    report = workdir / f"peak-{uuid.uuid4().hex}.json"
    env = {**os.environ, REPORT_ENV: str(report)}
    with tempfile.TemporaryFile("w+", dir=workdir) as out, tempfile.TemporaryFile("w+", dir=workdir) as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
        tree = TreeMemory(proc.pid)
        tree.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        tree_peak_mb = tree.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)  # tell Popen the child is reaped
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    try:
        own_mb = json.loads(report.read_text(encoding="utf-8"))["peak_mb"]
        report.unlink()
    except (OSError, ValueError, KeyError):
        own_mb = maxrss_mb(usage.ru_maxrss)
    return Run(command, proc.returncode, seconds, max(tree_peak_mb, own_mb), stdout, stderr)


def check(run: Run, what: str) -> None:
    """Stop the benchmark when a step that must work (set-up, the raw loader) fails."""
    if not run.ok:
        raise SystemExit(f"import_bench: {what} failed:\n{run.failure()}")


# -- the raw loader (runs in a child: `import_bench.py --raw-sqlite|--raw-postgres`) ----


def read_rows(path: Path) -> Iterator[dict[str, str]]:
    """The data rows of a CSV import file (UTF-8 with BOM), as header -> cell."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        yield from csv.DictReader(f)


def blank_to_none(text: str) -> str | None:
    return text or None


def to_int(text: str) -> int | None:
    return int(text) if text else None


def yuan_to_fen(text: str) -> int | None:
    """Yuan with up to two decimals as integer fen: "2670.00" -> 267000."""
    if not text:
        return None
    sign = -1 if text.startswith("-") else 1
    whole, _, cents = text.lstrip("+-").partition(".")
    return sign * (int(whole or "0") * 100 + int((cents + "00")[:2]))


def other_causes_json(text: str) -> str:
    """"缺技术、因学" as the JSON list text SQLAlchemy's JSON type stores (json.dumps)."""
    return json.dumps([c for c in text.split("、") if c])


def area_tuples(directory: Path) -> Iterator[tuple]:
    for r in read_rows(directory / "areas.csv"):
        yield r["区划代码"], r["名称"], AREA_LEVELS[r["层级"]], blank_to_none(r["上级区划代码"])


def household_tuples(directory: Path, ids: dict[str, int]) -> Iterator[tuple]:
    """Household rows with explicit ids 1, 2, ...; fills ``ids`` (户编号 -> id) as it goes."""
    for r in read_rows(directory / "households.csv"):
        hid = len(ids) + 1
        ids[r["户编号"]] = hid
        yield (
            hid,
            r["户编号"],
            r["村民小组代码"],
            r["户主姓名"],
            r["贫困户属性"],
            r["主要致贫原因"],
            other_causes_json(r["其他致贫原因"]),
            r["脱贫状态"],
            blank_to_none(r["识别标准"]),
            blank_to_none(r["首次识别时间"]),
            to_int(r["计划脱贫年度"]),
            blank_to_none(r["户联系电话"]),
            blank_to_none(r["住房结构"]),
            YES_NO.get(r["是否危房"]),
            YES_NO.get(r["是否解决安全饮用水"]),
            blank_to_none(r["住房面积(平方米)"]),
            yuan_to_fen(r["人均纯收入(元)"]),
            blank_to_none(r["开户银行"]),
            blank_to_none(r["银行账号"]),
        )


def person_tuples(directory: Path, ids: dict[str, int]) -> Iterator[tuple]:
    for r in read_rows(directory / "persons.csv"):
        yield (
            r["证件号码"],
            ids[r["户编号"]],
            r["姓名"],
            r["与户主关系"],
            r["性别"],
            r["出生日期"],
            blank_to_none(r["民族"]),
            blank_to_none(r["文化程度"]),
            blank_to_none(r["在校生状况"]),
            blank_to_none(r["健康状况"]),
            blank_to_none(r["劳动技能"]),
            blank_to_none(r["务工状况"]),
            to_int(r["务工时间(月)"]),
            blank_to_none(r["人联系电话"]),
        )


AREA_COLUMNS = "code, name, level, parent_code"
HOUSEHOLD_COLUMNS = (
    "id, number, group_code, head_name, attribute, main_cause, other_causes, status, ident_standard, "
    "first_identified, planned_exit_year, phone, housing_structure, dilapidated, safe_water, house_area_m2, "
    "net_income_per_capita_fen, bank, bank_account"
)
PERSON_COLUMNS = (
    "id_number, household_id, name, relation, sex, birth_date, ethnicity, education, student_status, health, "
    "labour, work_status, work_months, phone"
)
#: One status entry per household, as the store writes on registration.
STATUS_FROM_HOUSEHOLDS = (
    "INSERT INTO household_status (household_id, status, effective, reason) "
    "SELECT id, status, first_identified, {param} FROM households ORDER BY id"
)


def placeholders(columns: str, mark: str = "?") -> str:
    return ", ".join(mark for _ in columns.split(","))


def raw_sqlite(db_path: str, directory: Path) -> dict[str, Any]:
    """Load the files into an initialised SQLite database with ``sqlite3.executemany``, one transaction."""
    start = time.perf_counter()
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")  # as fupin's engine does
    counts = {}
    ids: dict[str, int] = {}
    conn.execute("BEGIN")
    cur = conn.executemany(
        f"INSERT INTO areas ({AREA_COLUMNS}) VALUES ({placeholders(AREA_COLUMNS)})", area_tuples(directory)
    )
    counts["areas"] = cur.rowcount
    cur = conn.executemany(
        f"INSERT INTO households ({HOUSEHOLD_COLUMNS}) VALUES ({placeholders(HOUSEHOLD_COLUMNS)})",
        household_tuples(directory, ids),
    )
    counts["households"] = cur.rowcount
    conn.execute(STATUS_FROM_HOUSEHOLDS.format(param="?"), (STATUS_REASON,))
    cur = conn.executemany(
        f"INSERT INTO persons ({PERSON_COLUMNS}) VALUES ({placeholders(PERSON_COLUMNS)})",
        person_tuples(directory, ids),
    )
    counts["persons"] = cur.rowcount
    conn.execute("COMMIT")
    conn.close()
    return loader_report(counts, start)


def raw_postgres(conninfo: str, directory: Path) -> dict[str, Any]:
    """Load the files into an initialised PostgreSQL database with psycopg ``COPY``, one transaction."""
    import psycopg

    start = time.perf_counter()
    counts = {}
    ids: dict[str, int] = {}
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:  # commits on leaving
        for table, columns, rows in (
            ("areas", AREA_COLUMNS, area_tuples(directory)),
            ("households", HOUSEHOLD_COLUMNS, household_tuples(directory, ids)),
        ):
            counts[table] = copy_rows(cur, table, columns, rows)
        if ids:  # ids were given explicitly: move the sequence past them
            cur.execute("SELECT setval(pg_get_serial_sequence('households', 'id'), %s)", (len(ids),))
        cur.execute(STATUS_FROM_HOUSEHOLDS.format(param="%s"), (STATUS_REASON,))
        counts["persons"] = copy_rows(cur, "persons", PERSON_COLUMNS, person_tuples(directory, ids))
    return loader_report(counts, start)


def copy_rows(cur: Any, table: str, columns: str, rows: Iterator[tuple]) -> int:
    n = 0
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def loader_report(counts: dict[str, int], start: float) -> dict[str, Any]:
    """What the raw loader prints on stdout: its counts, its own time and peak memory."""
    return {
        "counts": counts,
        "rows": sum(counts.values()),
        "seconds": time.perf_counter() - start,
        "peak_mb": own_peak_mb(),
    }


# -- the benchmark ---------------------------------------------------------------


@dataclasses.dataclass
class Result:
    """One load measured: rows, seconds (wall clock, from outside) and peak MB."""

    label: str
    rows: int
    seconds: float
    peak_mb: float
    parts: str = ""  # the figures of each process, when there were several

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def write_files(directory: Path, households: int, seed: int) -> dict[str, Any]:
    """In a child (``--generate``): write the synthetic files; returns the counts and seconds taken."""
    from fupin.synth import Synthesizer

    start = time.perf_counter()
    counts = Synthesizer(seed=seed).write_files(directory, households=households)
    return {"counts": counts, "seconds": time.perf_counter() - start}


def generate(directory: Path, households: int, seed: int, workdir: Path) -> dict[str, int]:
    """Write the synthetic files in a child process; prints the time, peak memory and file sizes."""
    run = run_measured([*CHILD, "--generate", str(directory), str(households), str(seed)], workdir)
    check(run, "writing the synthetic files")
    report = json.loads(run.stdout)
    counts = report["counts"]
    sizes = ", ".join(f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in sorted(directory.glob("*.csv")))
    print(
        f"generated {counts['households']:,} households, {counts['persons']:,} persons, "
        f"{counts['areas']:,} areas in {report['seconds']:.1f} s, peak {run.peak_mb:.0f} MB ({sizes})",
        flush=True,
    )
    return {**counts, "seconds": report["seconds"], "peak_mb": run.peak_mb}


def fupin_init(url: str, workdir: Path) -> None:
    check(run_measured([*FUPIN, "--db", url, "init"], workdir), f"fupin init of {url}")


def fupin_import_available(workdir: Path) -> bool:
    """Whether this fupin has the ``import`` command."""
    return run_measured([*FUPIN, "import", "--help"], workdir).ok


def run_raw(mode: str, target: str, files: Path, workdir: Path) -> Result:
    """The raw loader in a child process (``--raw-sqlite``/``--raw-postgres``)."""
    run = run_measured([*CHILD, mode, target, str(files)], workdir)
    check(run, f"the raw loader ({mode})")
    report = json.loads(run.stdout)
    return Result("raw loader", report["rows"], run.seconds, run.peak_mb)


def run_fupin_import(url: str, files: Path, workdir: Path) -> Result | str:
    """``fupin import`` of each file into ``url``: the summed time, the largest peak; or why it failed."""
    seconds, peak, parts = 0.0, 0.0, []
    for kind in IMPORTED:
        run = run_measured([*FUPIN, "--db", url, "import", kind, str(files / f"{kind}.csv")], workdir)
        if not run.ok:
            return run.failure()
        seconds += run.seconds
        peak = max(peak, run.peak_mb)
        parts.append(f"{kind} {run.seconds:.2f} s {run.peak_mb:.0f} MB")
    return Result("fupin import", 0, seconds, peak, "; ".join(parts))


def table_counts_sqlite(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in WRITTEN_TABLES}


def table_counts_postgres(conninfo: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(conninfo) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in WRITTEN_TABLES}


def median_pair(pairs: list[tuple[Result, Result | None]]) -> tuple[Result, Result | None, float | None]:
    """The pair whose throughput ratio (fupin/raw) is the median of the pairs' (the lower middle of an even
    count), and that ratio; the first pair and None when fupin did not run."""
    measured = sorted((fupin.rows_per_s / raw.rows_per_s, i) for i, (raw, fupin) in enumerate(pairs) if fupin is not None)
    if not measured:
        return pairs[0][0], None, None
    ratio, index = measured[(len(measured) - 1) // 2]
    return pairs[index][0], pairs[index][1], ratio


def compare(backend: str, files: Path, workdir: Path, rows: int, targets: dict[str, Any]) -> tuple[Result, Result | None]:
    """(a) the raw loader, then (b) fupin import, into two fresh databases of ``backend``: one pair.

    ``targets`` has, for each of "raw" and "fupin", the fupin ``url`` and what the
    raw loader or the count check connects to (``target``).
    """
    print(f"\n== {backend} ==", flush=True)
    fupin_init(targets["raw"]["url"], workdir)
    raw = run_raw(f"--raw-{backend}", targets["raw"]["target"], files, workdir)
    counter = table_counts_sqlite if backend == "sqlite" else table_counts_postgres
    raw_counts = counter(targets["raw"]["target"])
    fupin: Result | None = None
    if not fupin_import_available(workdir):
        print(
            "fupin import: NOT RUN - this fupin has no `import` command yet "
            f"(`{' '.join(FUPIN)} import --help` failed); raw figures only",
            flush=True,
        )
    else:
        fupin_init(targets["fupin"]["url"], workdir)
        outcome = run_fupin_import(targets["fupin"]["url"], files, workdir)
        if isinstance(outcome, str):
            print(f"fupin import: FAILED\n{outcome}", flush=True)
        else:
            fupin = outcome
            fupin.rows = rows
            fupin_counts = counter(targets["fupin"]["target"])
            if fupin_counts != raw_counts:
                print(f"WARNING: the databases differ: raw {raw_counts}, fupin {fupin_counts}", flush=True)
    print_results([raw] if fupin is None else [raw, fupin])
    print(f"rows in the raw database: {raw_counts}")
    if fupin is not None:
        print(
            f"fupin/raw: time x{fupin.seconds / raw.seconds:.2f}, "
            f"throughput x{fupin.rows_per_s / raw.rows_per_s:.2f}, peak memory x{fupin.peak_mb / raw.peak_mb:.2f}",
            flush=True,
        )
    return raw, fupin


def print_results(results: list[Result]) -> None:
    print(f"{'':14}{'rows':>12}{'seconds':>10}{'rows/s':>12}{'peak MB':>10}")
    for r in results:
        print(f"{r.label:14}{r.rows:>12,}{r.seconds:>10.2f}{r.rows_per_s:>12,.0f}{r.peak_mb:>10.1f}")
        if r.parts:
            print(f"{'':14}({r.parts})")


def sqlite_targets(workdir: Path) -> dict[str, Any]:
    """Two fresh SQLite files in ``workdir``."""
    targets = {}
    for name in ("raw", "fupin"):
        path = workdir / f"{name}.db"
        path.unlink(missing_ok=True)
        targets[name] = {"url": f"sqlite:///{path}", "target": str(path)}
    return targets


class PostgresDatabases:
    """Fresh ``fupin_bench_<random>`` databases on a server, dropped on leaving unless kept.

    The server URL may be SQLAlchemy's (``postgresql+psycopg://...``) or libpq's.
    """

    def __init__(self, server_url: str, keep: bool):
        self.url = urlsplit(server_url)
        self.keep = keep
        self.names: list[str] = []

    def _url(self, scheme: str, database: str | None) -> str:
        path = f"/{database}" if database else self.url.path
        return urlunsplit((scheme, self.url.netloc, path, self.url.query, ""))

    def conninfo(self, database: str | None = None) -> str:
        """A libpq URI (psycopg) for ``database`` (default: the one in the server URL)."""
        return self._url("postgresql", database)

    def create(self, label: str) -> dict[str, str]:
        import psycopg
        from psycopg import sql

        name = f"fupin_bench_{uuid.uuid4().hex[:10]}_{label}"
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.names.append(name)
        return {"url": self._url("postgresql+psycopg", name), "target": self.conninfo(name)}

    def __enter__(self) -> PostgresDatabases:
        return self

    def __exit__(self, *exc: object) -> None:
        import psycopg
        from psycopg import sql

        if self.keep:
            for name in self.names:
                print(f"kept PostgreSQL database {name}")
            return
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            for name in self.names:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def memory_by_size(sizes: list[int], seed: int, workdir: Path) -> dict[int, Result | str]:
    """fupin import into fresh SQLite files at several sizes: does peak memory grow with the file?"""
    print("\n== fupin import peak memory by size (SQLite) ==", flush=True)
    results: dict[int, Result | str] = {}
    for size in sizes:
        files = workdir / f"scale-{size}"
        counts = generate(files, size, seed, workdir)
        path = workdir / f"scale-{size}.db"
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
        fupin_init(url, workdir)
        outcome = run_fupin_import(url, files, workdir)
        if isinstance(outcome, Result):
            outcome.rows = counts["areas"] + counts["households"] + counts["persons"]
            outcome.label = f"{size:,} hh"
        results[size] = outcome
        shutil.rmtree(files)
        path.unlink()
    print_results([r for r in results.values() if isinstance(r, Result)])
    return results


def child(mode: str, args: list[str]) -> int:
    """This script as a measured child process; it reports its peak memory at exit."""
    report_peak_at_exit()
    if mode == "--fupin":
        from fupin.cli import main as fupin_main

        fupin_main(args)  # exits through click's sys.exit
        return 0
    if mode == "--generate":
        result = write_files(Path(args[0]), int(args[1]), int(args[2]))
    elif mode == "--raw-sqlite":
        result = raw_sqlite(args[0], Path(args[1]))
    else:
        result = raw_postgres(args[0], Path(args[1]))
    print(json.dumps(result))
    return 0


CHILD_MODES = ("--fupin", "--generate", "--raw-sqlite", "--raw-postgres")


def database_options(parser: argparse.ArgumentParser) -> None:
    """The options every benchmark shares: ``--postgres URL``, ``--workdir DIR``, ``--keep``."""
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL server (creates and drops a database)")
    parser.add_argument("--workdir", help="directory for the files and the SQLite database (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the workdir and the PostgreSQL database")


def in_workdir(args: argparse.Namespace, prefix: str, run: Callable[[argparse.Namespace, Path], int]) -> int:
    """``run(args, workdir)`` in ``--workdir`` or a temp dir (removed afterwards unless ``--keep``); its exit status."""
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix=prefix))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        return run(args, workdir)
    finally:
        if args.workdir is None and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit status (1 if a fupin load did not run)."""
    # fupin never guesses who acts: the benchmark's databases are initialised and loaded by this user.
    os.environ.setdefault("FUPIN_ACTOR", "BENCH:admin")
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in CHILD_MODES:
        return child(argv[0], argv[1:])
    args = parse_args(argv)
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="fupin-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    remove = args.workdir is None and not args.keep
    try:
        return benchmark(args, workdir)
    finally:
        if remove:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}")


def benchmark(args: argparse.Namespace, workdir: Path) -> int:
    files = workdir / "files"
    counts = generate(files, args.households, args.seed, workdir)
    rows = counts["areas"] + counts["households"] + counts["persons"]
    figures: dict[str, Any] = {
        "households": counts["households"],
        "persons": counts["persons"],
        "rows": rows,
        "generate_s": f"{counts['seconds']:.1f}",
        "generate_peak_mb": f"{counts['peak_mb']:.1f}",
    }
    complete = True

    pairs = [compare("sqlite", files, workdir, rows, sqlite_targets(workdir)) for _ in range(args.pairs)]
    raw, fupin, ratio = median_pair(pairs)
    figures["raw_rows_per_s"] = f"{raw.rows_per_s:.0f}"
    figures["fupin_rows_per_s"] = f"{fupin.rows_per_s:.0f}" if fupin else "NA"
    # The target is a throughput ratio: fupin's rows/s over the raw loader's, the median of the ABAB pairs.
    figures["sqlite_ratio"] = f"{ratio:.2f}" if fupin else "NA"
    figures["sqlite_pair_ratios"] = ",".join(f"{f.rows_per_s / r.rows_per_s:.2f}" for r, f in pairs if f) or "NA"
    figures["peak_mb"] = f"{fupin.peak_mb:.1f}" if fupin else "NA"
    figures["raw_peak_mb"] = f"{raw.peak_mb:.1f}"
    complete &= fupin is not None

    if args.postgres:
        pg_pairs = []
        for _ in range(args.pairs):
            with PostgresDatabases(args.postgres, args.keep) as pg:  # each pair's databases dropped after it
                targets = {"raw": pg.create("raw"), "fupin": pg.create("fupin")}
                pg_pairs.append(compare("postgres", files, workdir, rows, targets))
        pg_raw, pg_fupin, pg_ratio = median_pair(pg_pairs)
        figures["pg_raw_rows_per_s"] = f"{pg_raw.rows_per_s:.0f}"
        figures["pg_fupin_rows_per_s"] = f"{pg_fupin.rows_per_s:.0f}" if pg_fupin else "NA"
        figures["postgres_ratio"] = f"{pg_ratio:.2f}" if pg_fupin else "NA"
        figures["postgres_pair_ratios"] = ",".join(f"{f.rows_per_s / r.rows_per_s:.2f}" for r, f in pg_pairs if f) or "NA"
        figures["pg_peak_mb"] = f"{pg_fupin.peak_mb:.1f}" if pg_fupin else "NA"
        figures["pg_raw_peak_mb"] = f"{pg_raw.peak_mb:.1f}"
        complete &= pg_fupin is not None

    if args.scales and complete:
        by_size = memory_by_size(args.scales, args.seed, workdir)
        figures["peak_mb_by_size"] = ",".join(
            f"{size}:{r.peak_mb:.1f}" if isinstance(r, Result) else f"{size}:NA" for size, r in by_size.items()
        )
        complete &= all(isinstance(r, Result) for r in by_size.values())

    print()
    print(" ".join(f"{key}={value}" for key, value in figures.items()), flush=True)
    return 0 if complete else 1


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 25000,50000, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive sizes, got {text!r}")
    return sizes


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time `fupin import` against a minimal raw loader on the same synthetic files.",
    )
    parser.add_argument("--households", type=int, default=250_000, help="households in the synthetic province")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic data")
    parser.add_argument("--pairs", type=int, default=3, help="raw/fupin pairs per backend, alternating (ABAB); the median ratio is reported")
    parser.add_argument("--workdir", help="directory for the files and databases (default: a temp dir)")
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL server (creates databases)")
    parser.add_argument(
        "--scales",
        type=parse_sizes,
        metavar="N,N,...",
        help="also import at these sizes (households) and print fupin's peak memory for each",
    )
    parser.add_argument("--keep", action="store_true", help="keep the workdir and PostgreSQL databases")
    args = parser.parse_args(argv)
    if args.households < 1:
        parser.error("--households must be at least 1")
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    return args


if __name__ == "__main__":
    sys.exit(main())
