"""Engine benchmark: Rasa start-up time, resident memory, and one message through the gateway
compared with Rasa's own REST webhook, in the same run on this machine.

    make bench-engine      (= .venv/bin/python bench/engine.py)

Needs a trained model (make train). Starts its own Rasa with both the gateway channel and
Rasa's REST channel enabled (a throw-away credentials file, localhost only), the action
server and the service; writes docs/benchmarks/engine.md and results/engine_bench.json.
Training time is taken from `make train` (measured separately: it needs the CPU alone).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import devserver, engine  # noqa: E402
from bot.db import make_engine, make_sessionmaker  # noqa: E402
from bot.procedures.importer import import_catalog  # noqa: E402
from bot.settings import Environment, Settings  # noqa: E402
from tests.service.conftest import free_port, migrate  # noqa: E402

SECRET = "bench-gateway-secret-0123456789"
WARM_UP = 20  # requests per path before measuring
TEXTS = ["chào bạn", "lam cccd o mo rua", "lệ phí làm hộ chiếu bao nhiêu", "cảm ơn nha"]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (from /proc)."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


async def load(url: str, make_body, concurrency: int, requests: int, headers=None) -> dict:
    latencies: list[float] = []
    counter = iter(range(requests))

    async def worker(client: httpx.AsyncClient, worker_id: int) -> None:
        for i in counter:
            started = time.perf_counter()
            response = await client.post(url, json=make_body(worker_id, i), headers=headers)
            response.raise_for_status()
            latencies.append(time.perf_counter() - started)

    async with httpx.AsyncClient(timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client, w) for w in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, nargs="*", default=[1, 4, 16])
    args = parser.parse_args()
    if engine.latest_model() is None:
        print("no trained model: run `make train` first")
        return 1
    tmp = Path(tempfile.mkdtemp())
    settings = Settings(
        environment=Environment.TEST,
        database_url=f"sqlite:///{tmp / 'service.db'}",
        tracker_store_url=f"sqlite:///{tmp / 'tracker.db'}",
        gateway_secret=SECRET,  # type: ignore[arg-type]
        _env_file=None,  # type: ignore[call-arg]
    )
    migrate(settings.database_url)
    # The procedure questions go to the catalogue, as in production.
    import_catalog(make_sessionmaker(make_engine(settings.database_url)))
    credentials = tmp / "credentials.yml"
    credentials.write_text(
        (ROOT / "credentials.yml").read_text(encoding="utf-8") + "\nrest:\n", encoding="utf-8"
    )
    ports = {"port": free_port(), "rasa_port": free_port(), "action_port": free_port()}
    children = devserver.build_children(settings, **ports)
    rasa = children[1]
    rasa.cmd[rasa.cmd.index("credentials.yml")] = str(credentials)
    results: dict = {"startup_s": {}, "rss_mb": {}, "load": {}}
    try:
        for child in children:
            started = time.perf_counter()
            child.start()
            devserver.wait_healthy([child], timeout=300)
            results["startup_s"][child.name] = round(time.perf_counter() - started, 1)
        gateway = f"http://127.0.0.1:{ports['port']}/api/v1/chat"
        rest = f"http://127.0.0.1:{ports['rasa_port']}/webhooks/rest/webhook"
        for level, concurrency in enumerate(args.concurrency):
            # The same conversations on both paths: one sender per simulated citizen, the
            # same texts in the same order. Each path is warmed up first, and the order of
            # the two paths alternates between levels so neither always runs first.
            paths = [
                (
                    "rasa_rest",
                    rest,
                    lambda w, i, c=concurrency: {
                        "sender": f"rest-{c}-{w}",
                        "message": TEXTS[i % len(TEXTS)],
                    },
                ),
                (
                    "gateway",
                    gateway,
                    lambda w, i, c=concurrency: {
                        "text": TEXTS[i % len(TEXTS)],
                        "session_id": f"{c:016x}{w:016x}",
                    },
                ),
            ]
            if level % 2:
                paths.reverse()
            for _name, url, body in paths:
                asyncio.run(load(url, body, concurrency, WARM_UP))
            for name, url, body in paths:
                result = asyncio.run(load(url, body, concurrency, args.requests))
                results["load"].setdefault(str(concurrency), {})[name] = result
                print(concurrency, name, result, flush=True)
        for child in children:
            assert child.process is not None
            results["rss_mb"][child.name] = round(rss_mb(child.process.pid))
    finally:
        devserver.stop_all(children)
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "engine_bench.json").write_text(json.dumps(results, indent=1))
    lines = [
        "# Engine benchmark",
        "",
        "Command: `make bench-engine` (bench/engine.py), on this 2-core machine, one Rasa process,",
        f"SQLite tracker store, {args.requests} requests per cell. The gateway figure includes",
        "storing the message and the replies in the service database.",
        "",
        "| process | start-up to healthy (s) | resident memory after the load (MB) |",
        "|---|---|---|",
    ]
    for name in results["startup_s"]:
        lines.append(
            f"| {name} | {results['startup_s'][name]} | {results['rss_mb'].get(name, '')} |"
        )
    lines += [
        "",
        "| concurrency | Rasa REST msg/s | p50 ms | p95 ms | gateway msg/s | p50 ms | p95 ms | gateway p50 overhead |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for concurrency, cell in results["load"].items():
        r, g = cell["rasa_rest"], cell["gateway"]
        lines.append(
            f"| {concurrency} | {r['per_second']:.1f} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | "
            f"{g['per_second']:.1f} | {g['p50_ms']:.0f} | {g['p95_ms']:.0f} | {g['p50_ms'] / r['p50_ms'] - 1:+.0%} |"
        )
    out = ROOT / "docs" / "benchmarks" / "engine.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(out.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
