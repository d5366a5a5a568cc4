"""`python -m bot bench`: load figures for a running deployment, optionally against stock Rasa.

Simulated borrowers hold whole debt conversations over the REST channel
(verification, reason, offer, agreement) on loans the benchmark adds to the
loan store (references LN-9xxxxx, date of birth 1 June 1980). Phases:

1. one conversation at a time (latency without contention: p50),
2. `--concurrency` conversations at once (throughput at saturation, p95/p99),
3. one long conversation of `--long-turns` messages (turn 5 against the last turn).

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


def add_bench_loans(count: int) -> list[str]:
    from bot.bootstrap import services

    base = random.randint(100_000, 899_999)
    refs = [f"LN-9{base + i:06d}"[:10] for i in range(count)]
    services().store.upsert_loans(
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
    single = asyncio.run(_run_phase(url, "one at a time", script, refs_for(max(3, conversations // 10)), 1, check))
    loaded = asyncio.run(_run_phase(url, "saturation", script, refs_for(conversations), concurrency, check))
    early, late, long_phase = asyncio.run(_long_conversation(url, script[:3], long_turns, refs_for(1)[0]))
    return {
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


def render(ours: dict, stock: dict | None, memory: dict, long_turns: int) -> str:
    rows = [
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
    lines = [f"{'':40} {'this assistant':>15}" + (f" {'stock Rasa':>12} {'ratio':>7}" if stock else "")]
    for label, key, fmt in rows:
        line = f"{label:40} {fmt.format(ours[key]):>15}"
        if stock:
            ratio = ours[key] / stock[key] if stock[key] else float("nan")
            line += f" {fmt.format(stock[key]):>12} {ratio:>7.2f}"
        lines.append(line)
    lines.append("peak memory (MB): " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(memory.items())))
    return "\n".join(lines)


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
    return 1 if ours["errors"] else 0
