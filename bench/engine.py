"""Engine benchmark: Rasa start-up time, resident memory, and a load of simulated citizens
through the public APIs (the web chat API and the host API) compared with Rasa's own REST
webhook, in the same run on this machine.

    make bench-engine      (= .venv/bin/python bench/engine.py)

Needs a trained model (make train). Starts its own Rasa with both the gateway channel and
Rasa's REST channel enabled (a throw-away credentials file, localhost only), the action
server and the service; writes docs/benchmarks/engine.md and results/engine_bench.json.
Training time is taken from `make train` (measured separately: it needs the CPU alone).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import devserver, engine  # noqa: E402
from bot.apiclients.models import create_host  # noqa: E402
from bot.db import make_engine, make_sessionmaker  # noqa: E402
from bot.procedures.importer import import_catalog  # noqa: E402
from bot.settings import Environment, Settings  # noqa: E402
from tests.service.conftest import free_port, migrate  # noqa: E402

SECRET = "bench-gateway-secret-0123456789"
WARM_UP = 20  # requests per path before measuring
# Each simulated citizen has this short conversation, then another citizen begins.
TEXTS = ["chào bạn", "lam cccd o mo rua", "lệ phí làm hộ chiếu bao nhiêu", "cảm ơn nha"]
ROUNDS = 2  # per level: the paths run in one order, then in the reverse order


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


async def load(
    url: str,
    make_body,
    concurrency: int,
    requests: int,
    run: str,
    headers=None,
    texts: list[str] = TEXTS,
) -> tuple[list[tuple[str, float]], float]:
    """``concurrency`` citizens at a time, ``requests`` messages in all: (text, latency)
    pairs and the seconds it took.

    Worker w's k-th message is ``texts[k % len(texts)]``, from its citizen number k // 4
    (conversations of four messages; ``run`` keeps citizens of different runs apart).
    """
    latencies: list[tuple[str, float]] = []
    counter = iter(range(requests))

    async def worker(client: httpx.AsyncClient, worker_id: int) -> None:
        for k, _ in enumerate(counter):
            text = texts[k % len(texts)]
            body = make_body(f"{run}-{worker_id}-{k // len(TEXTS)}", text)
            started = time.perf_counter()
            response = await client.post(url, json=body, headers=headers)
            response.raise_for_status()
            latencies.append((text, time.perf_counter() - started))

    async with httpx.AsyncClient(timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client, w) for w in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, elapsed


def public_paths(rest_url: str, service_url: str, host_key: str) -> dict:
    """Rasa's REST webhook (or a stand-in's), the web chat API and the host API: name →
    (url, body of a citizen's message, headers)."""
    return {
        "rasa_rest": (rest_url, lambda c, t: {"sender": f"rest-{c}", "message": t}, None),
        "web_chat": (
            f"{service_url}/api/v1/chat",
            lambda c, t: {"text": t, "session_id": hashlib.md5(c.encode()).hexdigest()},
            None,
        ),
        "host_api": (
            f"{service_url}/api/v1/host/messages",
            lambda c, t: {"citizen_id": c, "text": t},
            {"X-API-Key": host_key},
        ),
    }


STAND_IN_REPLY = [
    {
        "recipient_id": "x",
        "text": "Chào bạn!",
        "buttons": [{"title": "Hỏi thủ tục", "payload": "/x"}],
    }
]


async def start_stand_in(port: int) -> web.AppRunner:
    """An instant stand-in of Rasa: both webhooks answer at once with one reply."""

    async def gateway(request: web.Request) -> web.Response:
        await request.json()
        return web.json_response({"messages": STAND_IN_REPLY})

    async def rest(request: web.Request) -> web.Response:
        await request.json()
        return web.json_response(STAND_IN_REPLY)

    app = web.Application()
    app.router.add_post("/webhooks/gateway/webhook", gateway)
    app.router.add_post("/webhooks/rest/webhook", rest)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def own_cost(service: devserver.Child, tmp: Path, requests: int) -> dict:
    """The service's own cost per message, one citizen at a time: the web chat API and the
    host API in front of an instant stand-in of Rasa, against the stand-in called directly.

    The load against the real Rasa compares whole paths; this isolates what the gateway adds
    (its HTTP, the two database writes, the hop to Rasa), which is the part to work on.
    """
    database_url = f"sqlite:///{tmp / 'stand_in.db'}"
    migrate(database_url)
    with make_sessionmaker(make_engine(database_url))() as session:
        host_key = create_host(session, name="Bench host", slug="bench").api_key
    port, stand_in_port = free_port(), free_port()
    cmd = [*service.cmd]
    cmd[cmd.index("--port") + 1] = str(port)
    child = devserver.Child(
        "service-stand-in",
        cmd,
        f"http://127.0.0.1:{port}/healthz",
        {
            **(service.env or {}),
            "RASA_URL": f"http://127.0.0.1:{stand_in_port}",
            "DATABASE_URL": database_url,
        },
    )
    child.start()
    try:
        devserver.wait_healthy([child], timeout=120)
        assert child.process is not None
        return asyncio.run(_own_cost(child.process.pid, port, stand_in_port, host_key, requests))
    finally:
        devserver.stop_all([child])


async def _own_cost(pid: int, port: int, stand_in_port: int, host_key: str, n: int) -> dict:
    runner = await start_stand_in(stand_in_port)
    paths = public_paths(
        f"http://127.0.0.1:{stand_in_port}/webhooks/rest/webhook",
        f"http://127.0.0.1:{port}",
        host_key,
    )
    taken: dict[str, list[float]] = {name: [] for name in paths}
    cpu = {name: 0.0 for name in paths}
    try:
        for round_ in range(4):  # round 0 warms up
            for name in paths if round_ % 2 else reversed(paths):
                url, body, headers = paths[name]
                before = cpu_seconds(pid)
                latencies, _ = await load(
                    url, body, 1, n // 3, f"own-{round_}", headers, texts=["chào bạn"]
                )
                if round_:
                    taken[name] += [t for _, t in latencies]
                    cpu[name] += cpu_seconds(pid) - before
    finally:
        await runner.cleanup()
    direct = statistics.median(taken["rasa_rest"]) * 1000
    result = {"stand_in_p50_ms": direct}
    for name in ("web_chat", "host_api"):
        p50 = statistics.median(taken[name]) * 1000
        result[name] = {
            "p50_ms": p50,
            "own_ms": p50 - direct,
            "cpu_ms": cpu[name] / len(taken[name]) * 1000,
        }
    return result


def summary(taken: list[tuple[str, float]], elapsed: float) -> dict:
    """Throughput, p50/p95/mean, and the median of each message kind.

    The four messages take very different times (a greeting vs a catalogue search), so the
    median of all of them falls between two clusters and jumps with small changes; the mean,
    the p95 and each kind's own median are the stable figures to compare paths on.
    """
    latencies = sorted(t for _, t in taken)
    return {
        "requests": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "mean_ms": statistics.mean(latencies) * 1000,
        "kind_p50_ms": {
            text: statistics.median(t for k, t in taken if k == text) * 1000 for text in TEXTS
        },
    }


# Unclear messages (out of scope, or the classifier unsure) are weighed before they are
# declined or asked back: the action server asks the service for a report preview and a
# procedure search (actions/actions.py ActionWeighUnclear). What that evidence costs a
# message is the latency of those two calls, one after the other, on the running service.
EVIDENCE_TEXTS = [
    "thời tiết ngày mai ở Huế thế nào",
    "cay tram bau ben duong lien thon bi bao lam nghieng",
    "đăng ký kết hôn với người Hà Nội thì nộp ở Huế hay Hà Nội",
]


async def evidence_cost(service_url: str, token: str, requests: int) -> dict[str, float]:
    """p50 and p95 (ms) of the weighing's two calls to the service, one citizen at a time."""
    from actions.service_client import ServiceClient

    os.environ.setdefault("INTERNAL_API_TOKEN", token)
    client = ServiceClient(service_url)
    taken = []
    for k in range(WARM_UP + requests):
        text = EVIDENCE_TEXTS[k % len(EVIDENCE_TEXTS)]
        started = time.perf_counter()
        await client.report_preview({"description": text})
        await client.search(text, limit=5)
        if k >= WARM_UP:
            taken.append(time.perf_counter() - started)
    taken.sort()
    return {
        "p50_ms": statistics.median(taken) * 1000,
        "p95_ms": taken[int(len(taken) * 0.95) - 1] * 1000,
    }


def overheads(path: dict, rest: dict) -> dict[str, float]:
    """The path's latency over Rasa REST's: mean, p95, p50, and the worst kind's p50."""
    kinds = [path["kind_p50_ms"][t] / rest["kind_p50_ms"][t] - 1 for t in TEXTS]
    return {
        "mean": path["mean_ms"] / rest["mean_ms"] - 1,
        "p95": path["p95_ms"] / rest["p95_ms"] - 1,
        "p50": path["p50_ms"] / rest["p50_ms"] - 1,
        "worst_kind_p50": max(kinds),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, nargs="*", default=[1, 4, 16])
    parser.add_argument("--own-cost-requests", type=int, default=900)
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
    devserver.one_address_for_many_citizens(children)
    rasa = children[1]
    rasa.cmd[rasa.cmd.index("credentials.yml")] = str(credentials)
    results: dict = {"startup_s": {}, "rss_mb": {}, "load": {}}
    try:
        for child in children:
            started = time.perf_counter()
            child.start()
            devserver.wait_healthy([child], timeout=300)
            results["startup_s"][child.name] = round(time.perf_counter() - started, 1)
        service = f"http://127.0.0.1:{ports['port']}"
        rest = f"http://127.0.0.1:{ports['rasa_port']}/webhooks/rest/webhook"
        with make_sessionmaker(make_engine(settings.database_url))() as session:
            host_key = create_host(session, name="Bench host", slug="bench").api_key
        paths = public_paths(rest, service, host_key)
        for concurrency in args.concurrency:
            # The same conversations on every path. Each path is warmed up, then measured in
            # ROUNDS rounds whose order alternates, so a drift of the machine hits all alike.
            order = list(paths)
            for name in order:
                url, body, headers = paths[name]
                asyncio.run(load(url, body, concurrency, WARM_UP, f"w{concurrency}", headers))
            taken: dict[str, tuple[list[float], float]] = {name: ([], 0.0) for name in paths}
            for round_ in range(ROUNDS):
                for name in order if round_ % 2 == 0 else order[::-1]:
                    url, body, headers = paths[name]
                    latencies, elapsed = asyncio.run(
                        load(
                            url,
                            body,
                            concurrency,
                            args.requests // ROUNDS,
                            f"r{concurrency}-{round_}",
                            headers,
                        )
                    )
                    taken[name] = (taken[name][0] + latencies, taken[name][1] + elapsed)
            for name, (latencies, elapsed) in taken.items():
                result = summary(latencies, elapsed)
                results["load"].setdefault(str(concurrency), {})[name] = result
                print(concurrency, name, result, flush=True)
        results["evidence"] = asyncio.run(
            evidence_cost(service, settings.internal_api_token.get_secret_value(), args.requests)
        )
        print("evidence", results["evidence"], flush=True)
        for child in children:
            assert child.process is not None
            results["rss_mb"][child.name] = round(rss_mb(child.process.pid))
    finally:
        devserver.stop_all(children)
    service_child = next(c for c in children if c.name == "service")
    results["own_cost"] = own_cost(service_child, tmp, args.own_cost_requests)
    print("own cost", results["own_cost"], flush=True)
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
        "Simulated citizens, each with a 4-message conversation "
        f"({', '.join(repr(t) for t in TEXTS)}), then the next; "
        "`concurrency` of them at a time. The same conversations on every path: Rasa's REST "
        "webhook directly, the web chat API (`POST /api/v1/chat`) and the host API "
        "(`POST /api/v1/host/messages`, API key, per-citizen rate limit). Overhead: the "
        "path's latency over Rasa REST's, in the same run.",
        "",
        "| concurrency | path | msg/s | mean ms | p50 ms | p95 ms | overhead: mean | p95 | "
        "p50 | worst kind's p50 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for concurrency, cell in results["load"].items():
        r = cell["rasa_rest"]
        for name, g in cell.items():
            cols = ["", "", "", ""]
            if name != "rasa_rest":
                cols = [f"{v:+.0%}" for v in overheads(g, r).values()]
            lines.append(
                f"| {concurrency} | {name} | {g['per_second']:.1f} | {g['mean_ms']:.0f} | "
                f"{g['p50_ms']:.0f} | {g['p95_ms']:.0f} | {' | '.join(cols)} |"
            )
    lines += [
        "",
        "Median by message kind (ms), Rasa REST / web chat / host API:",
        "",
        "| concurrency | " + " | ".join(TEXTS) + " |",
        "|---|" + "---|" * len(TEXTS),
    ]
    for concurrency, cell in results["load"].items():
        kinds = [" / ".join(f"{cell[n]['kind_p50_ms'][t]:.0f}" for n in cell) for t in TEXTS]
        lines.append(f"| {concurrency} | " + " | ".join(kinds) + " |")
    own = results["own_cost"]
    lines += [
        "",
        "The gateway's own cost, one citizen at a time, in front of an instant stand-in of Rasa "
        f"(a local server that answers at once; {args.own_cost_requests // 3 * 3} requests per "
        "path, in alternating order): the path's median latency minus the stand-in's own "
        "median when called directly, and the service's CPU time per message.",
        "",
        "| path | p50 ms | own cost ms | service CPU ms per message |",
        "|---|---|---|---|",
        f"| stand-in directly | {own['stand_in_p50_ms']:.2f} |  |  |",
    ]
    for name in ("web_chat", "host_api"):
        o = own[name]
        lines.append(f"| {name} | {o['p50_ms']:.2f} | {o['own_ms']:.2f} | {o['cpu_ms']:.2f} |")
    evidence = results["evidence"]
    lines += [
        "",
        "What weighing an unclear message costs (an out-of-scope or unsure message is weighed "
        "before it is declined or asked back: a report preview and a procedure search on the "
        f"service, actions/actions.py), one citizen at a time, {args.requests} messages: "
        f"**p50 {evidence['p50_ms']:.1f} ms**, p95 {evidence['p95_ms']:.1f} ms. Clear "
        "messages (the load above) pay nothing for it.",
    ]
    out = ROOT / "docs" / "benchmarks" / "engine.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    one = results["load"].get("1", {}).get("web_chat", {})
    headline = {
        "command": "make bench-engine",
        "p50_ms_at_1": one.get("p50_ms"),
        "messages_per_s": {
            c: cell["web_chat"]["per_second"] for c, cell in results["load"].items()
        },
        "rasa_ready_s": results["startup_s"].get("rasa"),
        "rss_mb": results["rss_mb"],
        "evidence_p50_ms": evidence["p50_ms"],
        "evidence_p95_ms": evidence["p95_ms"],
    }
    (out.parent / "engine.json").write_text(json.dumps(headline, indent=1) + "\n")
    print(out.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
