"""`python -m bot bench`: load figures for a running deployment, optionally against stock Rasa.

Simulated borrowers hold whole debt conversations over the REST channel
(verification, reason, offer, agreement) on loans the benchmark adds to the
loan store (references LN-9xxxxx, date of birth 1 June 1980). Phases:

1. one conversation at a time (latency without contention: p50),
2. `--concurrency` conversations at once (throughput at saturation, p95/p99),
3. one long conversation of `--long-turns` messages (turn 5 against the last turn).

With `--profile embedded,production` it starts each profile itself (`python -m
bot cluster` behind nginx, on stores made for the run and removed after it: see
`_Profile`; embedded: one Rasa replica and one action server; production: by
default two replicas running the actions in process, `--production-layout
action-server` for one replica and one action server), drives one after the
other with the same load, and prints them side by side (with `--baseline`,
stock Rasa too, and each profile's ratios).

Peak memory is read from /proc (VmHWM) for every Rasa and action-server process
on this machine. `--baseline` also creates the stock `rasa init` assistant
(default config) under var/bench/stock, serves it and drives it with the same
load shape, and prints each figure as a ratio to it.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

from bot.domain.clock import local_today
from bot.settings import PROJECT_ROOT

DOB = "1 June 1980"
DEBT_SCRIPT = [
    "hi",
    "{loan_ref}",
    DOB,
    "I lost my job last month",
    '/choose_plan{{"plan_months": "6"}}',
    "in 10 days",
    "yes",
]
LONG_TALK = ["what fees will I pay", "will this affect my credit score", "how can I pay", "are you a bot"]
# The stock assistant's own stories (greet, mood, bot challenge), same length.
STOCK_SCRIPT = ["hi", "I am sad", "yes", "great", "are you a bot?", "hello", "bye"]


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def messages(self) -> int:
        return len(self.latencies) + self.errors

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


async def _send(session: aiohttp.ClientSession, url: str, who: str, text: str, phase: Phase) -> str | None:
    started = time.perf_counter()
    try:
        async with session.post(f"{url}/webhooks/rest/webhook", json={"sender": who, "message": text}) as r:
            body = await r.json(content_type=None)
            if r.status != 200:
                phase.errors += 1
                return None
    except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError):
        phase.errors += 1
        return None
    phase.latencies.append(time.perf_counter() - started)
    return "\n".join(m.get("text", "") for m in body if isinstance(m, dict))


async def _conversation(session, url: str, script: list[str], loan_ref: str, phase: Phase, check: str | None) -> None:
    who = f"bench-{random.getrandbits(48):012x}"
    reply = None
    for line in script:
        reply = await _send(session, url, who, line.format(loan_ref=loan_ref), phase)
    if check and (reply is None or check not in reply):
        phase.errors += 1  # the conversation did not reach its agreement


async def _run_phase(url, name, script, loan_refs, concurrency, check) -> Phase:
    phase = Phase(name)
    limit = asyncio.Semaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=concurrency * 2)) as s:

        async def one(ref):
            async with limit:
                await _conversation(s, url, script, ref, phase, check)

        started = time.perf_counter()
        await asyncio.gather(*(one(ref) for ref in loan_refs))
        phase.seconds = time.perf_counter() - started
    return phase


async def _long_conversation(url, opening: list[str], turns: int, loan_ref: str) -> tuple[float, float, Phase]:
    phase = Phase("long")
    who = f"bench-long-{random.getrandbits(48):012x}"
    timings = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as s:
        for i in range(turns):
            text = opening[i] if i < len(opening) else LONG_TALK[i % len(LONG_TALK)]
            before = len(phase.latencies)
            await _send(s, url, who, text.format(loan_ref=loan_ref), phase)
            timings.append(phase.latencies[-1] if len(phase.latencies) > before else float("nan"))
    early = statistics.median(timings[3:8]) * 1000
    late = statistics.median(timings[-5:]) * 1000
    return early, late, phase


def add_bench_loans(count: int, store=None) -> list[str]:
    if store is None:
        from bot.bootstrap import services

        store = services().store
    base = random.randint(100_000, 899_999)
    refs = [f"LN-9{base + i:06d}"[:10] for i in range(count)]
    store.upsert_loans(
        {
            "loan_ref": ref,
            "borrower_name": f"Bench Borrower {i}",
            "date_of_birth": date(1980, 6, 1),
            "phone": None,
            "email": None,
            "timezone": "Europe/London",
            "language": "en",
            "product": "personal_loan",
            "currency": "GBP",
            "principal": Decimal("5000.00"),
            "outstanding_balance": Decimal("3200.00"),
            "overdue_amount": Decimal("250.00"),
            "days_past_due": 20,
            "next_due_date": local_today("Europe/London") + timedelta(days=10),
        }
        for i, ref in enumerate(refs)
    )
    return refs


def peak_memory_mb() -> dict[str, float]:
    """VmHWM of every Rasa / action-server process on this machine."""
    out = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if not ("rasa run" in cmd or "actions.server" in cmd or "rasa_sdk" in cmd):
                continue
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        kb = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")), 0)
        port = cmd.split("--port ")[1].split()[0] if "--port " in cmd else "?"
        kind = "actions" if "actions" in cmd and "rasa run --model" not in cmd else "rasa"
        out[f"{kind}:{port} (pid {pid})"] = kb / 1024
    return out


def run_load(
    url: str, script: list[str], refs_for, conversations: int, concurrency: int, long_turns: int, check: str | None
) -> dict:
    load = [os.getloadavg()[0]]
    single = asyncio.run(_run_phase(url, "one at a time", script, refs_for(max(3, conversations // 10)), 1, check))
    load.append(os.getloadavg()[0])
    loaded = asyncio.run(_run_phase(url, "saturation", script, refs_for(conversations), concurrency, check))
    load.append(os.getloadavg()[0])
    early, late, long_phase = asyncio.run(_long_conversation(url, script[:3], long_turns, refs_for(1)[0]))
    load.append(os.getloadavg()[0])
    return {
        # the machine's 1-minute load average as the phases began and ended: figures
        # taken on a machine whose cores are busy elsewhere compare only within a run
        "load_average": (min(load), max(load)),
        "messages": single.messages + loaded.messages + long_phase.messages,
        "errors": single.errors + loaded.errors + long_phase.errors,
        "p50_ms_one_at_a_time": single.pct(50),
        "p50_ms": loaded.pct(50),
        "p95_ms": loaded.pct(95),
        "p99_ms": loaded.pct(99),
        "messages_per_second": loaded.rate,
        "turn5_ms": early,
        f"turn{long_turns}_ms": late,
        "long_ratio": late / early if early else float("nan"),
    }


def _stock_assistant(port: int) -> subprocess.Popen:
    """Create (once) and serve the stock `rasa init` assistant."""
    rasa = str(Path(sys.executable).parent / "rasa")
    stock = PROJECT_ROOT / "var" / "bench" / "stock"
    if not list((stock / "models").glob("*.tar.gz")):
        shutil.rmtree(stock, ignore_errors=True)
        stock.mkdir(parents=True)
        print("bench: creating and training the stock `rasa init` assistant (a few minutes)", flush=True)
        subprocess.run(
            [rasa, "init", "--no-prompt", "--init-dir", str(stock)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=stock,
        )
    log = (stock / "server.log").open("w")
    proc = subprocess.Popen(
        [rasa, "run", "--port", str(port), "--model", str(stock / "models")],
        cwd=stock,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 300
    while time.time() < deadline:
        try:
            import urllib.request

            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return proc
        except OSError:
            time.sleep(1)
    proc.kill()
    raise SystemExit("bench: the stock assistant did not start; see var/bench/stock/server.log")


def _rows(long_turns: int) -> list[tuple[str, str, str]]:
    """The table's rows: label, result key, format."""
    return [
        ("messages sent", "messages", "{:.0f}"),
        ("errors", "errors", "{:.0f}"),
        ("p50 one conversation at a time (ms)", "p50_ms_one_at_a_time", "{:.0f}"),
        ("p50 at saturation (ms)", "p50_ms", "{:.0f}"),
        ("p95 (ms)", "p95_ms", "{:.0f}"),
        ("p99 (ms)", "p99_ms", "{:.0f}"),
        ("messages per second", "messages_per_second", "{:.1f}"),
        ("turn 5 latency (ms)", "turn5_ms", "{:.0f}"),
        (f"turn {long_turns} latency (ms)", f"turn{long_turns}_ms", "{:.0f}"),
        (f"turn {long_turns} / turn 5", "long_ratio", "{:.2f}"),
    ]


def render(ours: dict, stock: dict | None, memory: dict, long_turns: int) -> str:
    rows = _rows(long_turns)
    lines = [f"{'':40} {'this assistant':>15}" + (f" {'stock Rasa':>12} {'ratio':>7}" if stock else "")]
    for label, key, fmt in rows:
        line = f"{label:40} {fmt.format(ours[key]):>15}"
        if stock:
            ratio = ours[key] / stock[key] if stock[key] else float("nan")
            line += f" {fmt.format(stock[key]):>12} {ratio:>7.2f}"
        lines.append(line)
    lines.append("peak memory (MB): " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(memory.items())))
    return "\n".join(lines)


PROFILES = ("embedded", "production")
# How `--profile production` runs the assistant on the machine's processes (docs/deploy.md,
# "Actions in the replica"): two Rasa replicas each running the actions themselves, or one
# replica calling one action server over HTTP (the layout of sessions 12-14's runs). Either
# way two Python processes, behind nginx; the embedded profile always runs the second.
PRODUCTION_LAYOUTS = {"in-process": (2, True), "action-server": (1, False)}
BENCH_POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")


class _Profile:
    """A profile started for the benchmark: `python -m bot cluster` with one Rasa
    replica and one action server behind nginx (or `replicas` replicas running the
    actions themselves: `in_process`), on stores of its own
    (embedded: SQLite loan store, trackers and locks in memory; production:
    loan store and Rasa's tracker store in two new PostgreSQL databases, the
    Redis lock store), removed afterwards."""

    def __init__(self, name: str, model: Path, *, replicas: int = 1, in_process: bool = False) -> None:
        self.name, self.model = name, model
        # in_process: the replicas run the actions themselves (ACTIONS_IN_PROCESS), no action server
        self.replicas, self.in_process = replicas, in_process
        self.work = PROJECT_ROOT / "var" / "bench" / name
        self.databases: list[str] = []
        self.proc: subprocess.Popen | None = None
        self.store: Any = None  # the profile's LoanStore once started
        self.ports: tuple[int, ...] = ()

    def _postgres_database(self, kind: str) -> str:
        from sqlalchemy import create_engine, text

        name = f"bench_{kind}_{random.getrandbits(32):08x}"
        admin = create_engine(BENCH_POSTGRES_URL, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        self.databases.append(name)
        return BENCH_POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"

    def start(self) -> str:
        from bot.adapters.database import Database
        from bot.adapters.store import LoanStore
        from bot.ops.migrate import upgrade

        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        env = {**os.environ, "APP_ENV": "development", "TRACKER_STORE_URL": "", "LOCK_STORE_URL": ""}
        env["ACTIONS_IN_PROCESS"] = "true" if self.in_process else "false"
        env.pop("EVENT_BROKER_URL", None)
        if self.name == "production":
            loans_url = self._postgres_database("loans")
            env.update(
                TRACKER_STORE_URL=self._postgres_database("trackers"),
                LOCK_STORE_URL=BENCH_REDIS_URL,
            )
        else:
            loans_url = f"sqlite:///{self.work / 'loans.db'}"
        env["DATABASE_URL"] = loans_url
        upgrade(loans_url)
        self.store = LoanStore(Database(loans_url))
        port = next(p for p in range(8600, 9600, 200) if all(_port_free(p + d) for d in (0, 1, 10, 110, 111)))
        log = self.work / "cluster.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "cluster", "--replicas", str(self.replicas)]
            + ["--action-servers", "0" if self.in_process else "1"]
            + ["--port", str(port), "--model", str(self.model), "--work", str(self.work)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 600
        while "behind http" not in log.read_text():
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise SystemExit(f"bench: the {self.name} profile did not start; see {self.work}")
            time.sleep(1)
        print(f"bench: {self.name} profile up (logs in {self.work})", flush=True)
        # its action server and Rasa replicas (bot/ops/cluster.py)
        self.ports = (*(() if self.in_process else (port + 10,)), *(port + 110 + i for i in range(self.replicas)))
        return f"http://127.0.0.1:{port}"

    def table_scans(self) -> list[tuple[str, str, int, int, int]]:
        """Per table of the profile's PostgreSQL databases: (database, table,
        sequential scans, index scans, rows) since they were created — the
        index check for every query the run made."""
        from sqlalchemy import create_engine, text

        found = []
        base = BENCH_POSTGRES_URL.rsplit("/", 1)[0]
        for name in self.databases:
            engine = create_engine(f"{base}/{name}")
            with engine.connect() as conn:
                rows = conn.execute(
                    text(
                        "SELECT relname, seq_scan, coalesce(idx_scan, 0), n_live_tup FROM pg_stat_user_tables "
                        "WHERE seq_scan + coalesce(idx_scan, 0) > 0 ORDER BY relname"
                    )
                ).all()
            engine.dispose()
            found += [(name.split("_")[1], r[0], r[1], r[2], r[3]) for r in rows]
        return found

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.store is not None:
            self.store.db.engine.dispose()
        if self.databases:
            from sqlalchemy import create_engine, text

            admin = create_engine(BENCH_POSTGRES_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                for name in self.databases:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _dealer(refs: list[str]):
    """Hands out the references, each once."""
    pool = iter(refs)
    return lambda n: [next(pool) for _ in range(n)]


def _latest_model() -> Path:
    models = sorted((PROJECT_ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise SystemExit("bench: no trained model in models/; run `rasa train` first")
    return models[-1]


def load_line(columns: dict[str, dict | None]) -> str:
    """The 1-minute load average while each column ran (lowest to highest seen)."""
    spans = [
        f"{name} {c['load_average'][0]:.1f}-{c['load_average'][1]:.1f}"
        for name, c in columns.items()
        if c and "load_average" in c
    ]
    return f"load average (1 min, {os.cpu_count()} cores) while each column ran: " + ", ".join(spans)


def render_profiles(results: dict[str, dict], stock: dict | None, long_turns: int) -> str:
    """One column per profile (and stock Rasa), then each profile's ratio to stock
    and production's to embedded."""
    rows = _rows(long_turns)
    columns = dict(results)
    if stock:
        columns["stock Rasa"] = stock
    ratios = [(f"{name}/stock", name, "stock Rasa") for name in results if stock]
    if "embedded" in results and "production" in results:
        ratios.append(("prod/emb", "production", "embedded"))
    head = f"{'':38}" + "".join(f" {name:>11}" for name in columns) + "".join(f" {r[0]:>14}" for r in ratios)
    lines = [head]
    for label, key, fmt in rows:
        line = f"{label:38}" + "".join(f" {fmt.format(c[key]):>11}" for c in columns.values())
        for _, top, bottom in ratios:
            a, b = columns[top][key], columns[bottom][key]
            line += f" {(a / b if b else float('nan')):>14.2f}"
        lines.append(line)
    return "\n".join(lines)


def main_profiles(
    profiles: list[str],
    conversations: int,
    concurrency: int,
    long_turns: int,
    baseline: bool,
    as_json: bool,
    model: Path | None = None,
    production_layout: str = "in-process",
) -> int:
    """`--profile`: start each profile in turn, drive it, stop it; then stock Rasa."""
    model = (model or _latest_model()).resolve()
    replicas, in_process = PRODUCTION_LAYOUTS[production_layout]
    results: dict[str, dict] = {}
    memory: dict[str, float] = {}
    scans: dict[str, list] = {}
    for name in profiles:
        if name == "production":
            profile = _Profile(name, model, replicas=replicas, in_process=in_process)
            print(f"bench: production layout {production_layout} ({replicas} replica(s))", flush=True)
        else:
            profile = _Profile(name, model)
        try:
            url = profile.start()
            refs_for = _dealer(add_bench_loans(conversations + conversations // 10 + 10, profile.store))
            results[name] = run_load(
                url,
                DEBT_SCRIPT,
                refs_for,
                conversations,
                concurrency,
                long_turns,
                check="AG-",
            )
            memory.update(
                {f"{name} {k}": v for k, v in peak_memory_mb().items() if any(f":{p} " in k for p in profile.ports)}
            )
            if profile.databases:
                scans[name] = profile.table_scans()
        finally:
            profile.stop()
    stock = None
    if baseline:
        proc = _stock_assistant(5099)
        try:
            stock = run_load(
                "http://127.0.0.1:5099",
                STOCK_SCRIPT,
                lambda n: ["-"] * n,
                conversations,
                concurrency,
                long_turns,
                check=None,
            )
            memory.update({f"stock {k}": v for k, v in peak_memory_mb().items() if ":5099 " in k})
        finally:
            proc.terminate()
    if as_json:
        print(json.dumps({**results, "stock": stock, "peak_memory_mb": memory, "table_scans": scans}, indent=2))
    else:
        print(render_profiles(results, stock, long_turns))
        print(load_line({**results, "stock Rasa": stock}))
        print("peak memory (MB): " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(memory.items())))
        for name, tables in scans.items():
            print(f"{name}: table (database): sequential scans / index scans / rows")
            for database, table, seq, idx, rows in tables:
                print(f"  {table} ({database}): {seq} / {idx} / {rows}")
    return 1 if any(r["errors"] for r in results.values()) else 0


def main(url: str, conversations: int, concurrency: int, long_turns: int, baseline: bool, as_json: bool) -> int:
    from bot.settings import load_settings

    if load_settings().production:
        print("bench: refused with APP_ENV=production (it adds test loans to the loan store)", file=sys.stderr)
        return 2
    refs = add_bench_loans(conversations + conversations // 10 + 10)
    pool = iter(refs)

    def refs_for(n):
        return [next(pool) for _ in range(n)]

    ours = run_load(url, DEBT_SCRIPT, refs_for, conversations, concurrency, long_turns, check="AG-")
    stock = None
    if baseline:
        port = 5099
        proc = _stock_assistant(port)
        try:
            stock = run_load(
                f"http://127.0.0.1:{port}",
                STOCK_SCRIPT,
                lambda n: ["-"] * n,
                conversations,
                concurrency,
                long_turns,
                check=None,
            )
        finally:
            memory = peak_memory_mb()
            proc.terminate()
    else:
        memory = peak_memory_mb()
    if as_json:
        print(json.dumps({"ours": ours, "stock": stock, "peak_memory_mb": memory}, indent=2))
    else:
        print(render(ours, stock, memory, long_turns))
        print(load_line({"this assistant": ours, "stock Rasa": stock}))
    return 1 if ours["errors"] else 0
