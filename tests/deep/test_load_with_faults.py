"""Load with faults (make test-deep): a bounded run against a real multi-worker server.

Concurrent single decisions, batch calls and signed webhook deliveries while the
rules directory (laid out as a Kubernetes ConfigMap) is swapped every few
seconds, a third of the swaps broken on purpose. Passes only with zero 5xx, zero
failed requests, every decision made by a complete and valid ruleset, and
resident memory flat after warm-up. The figures go to
test-output/load-with-faults.json (docs/reliability.md quotes them).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.engine.loader import load_dir
from tests.support import OUTPUT, RULES, running_server
from tests.test_decisions_http import CONTRACT_EXAMPLE
from tests.test_reload import configmap_dir, copy_rules
from tests.webhooks import deliveries as d

pytestmark = pytest.mark.deep

SECONDS = float(os.environ.get("RECOVERY_LOAD_SECONDS", "180"))
# Retired rulesets are freed 30 s after a swap, so memory settles after the first minute.
WARMUP = min(60.0, SECONDS / 3)


def workers(pid: int) -> list[int]:
    """The uvicorn worker processes (not multiprocessing's resource tracker)."""
    found = []
    try:
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(int(child))
    except OSError:
        pass
    return found


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


def test_load_with_reloads_and_broken_rules(tmp_path: Path) -> None:
    variants = {}
    band = "            - {{from: 3, percent_of_order: {}}}\n"
    for percent in (15, 20, 25):
        source = copy_rules(tmp_path / f"p{percent}")
        outcome = source / "20-outcome.yaml"
        text = outcome.read_text()
        assert band.format(15) in text
        outcome.write_text(text.replace(band.format(15), band.format(percent)))
        variants[percent] = source
    broken = copy_rules(tmp_path / "broken")
    (broken / "30-process.yaml").write_text("rules:\n  - id: bad\n    when: {failure.sevrity: 3}\n"
                                            "    then: {explanation: true}\n")
    for source in [*variants.values(), broken]:  # the webhook mappings travel with every version
        shutil.copytree(RULES / "webhooks", source / "webhooks")
    valid = {load_dir(source).digest for source in variants.values()}
    mount = tmp_path / "mount"
    mount.mkdir()
    configmap_dir(mount, "v0", variants[15])

    env = {**d.ENV, "RECOVERY_WORKERS": "2", "RECOVERY_RELOAD_INTERVAL_SECONDS": "0.5",
           "RECOVERY_LOG_LEVEL": "warning"}
    counts: dict[str, int] = {"decision": 0, "batch": 0, "webhook": 0}
    latency: dict[str, list[float]] = {kind: [] for kind in counts}
    failures: list[str] = []
    digests: set[str] = set()
    memory: list[tuple[float, dict[int, int]]] = []
    swaps = {"valid": 0, "broken": 0}

    with running_server("load-with-faults", mount, env=env, ready_path="/readyz") as server:
        stop = threading.Event()
        started = time.monotonic()

        def swap_rules() -> None:
            order = [20, "broken", 25, 15, "broken", 20, 25, "broken", 15]
            step = 0
            while not stop.wait(3.0):
                choice = order[step % len(order)]
                step += 1
                source = broken if choice == "broken" else variants[choice]  # type: ignore[index]
                configmap_dir(mount, f"v{step}", source)
                swaps["broken" if choice == "broken" else "valid"] += 1

        def sample_memory() -> None:
            while not stop.wait(2.0):
                memory.append((time.monotonic() - started,
                               {pid: rss_kib(pid) for pid in workers(server.process.pid)}))

        async def run() -> None:
            limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
            async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as http:
                deadline = time.monotonic() + SECONDS

                async def call(kind: str, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
                    begin = time.perf_counter()
                    try:
                        response = await http.request(method, path, **kwargs)
                    except httpx.HTTPError as exc:
                        failures.append(f"{kind}: {exc!r}")
                        return None
                    latency[kind].append(time.perf_counter() - begin)
                    counts[kind] += 1
                    if response.status_code != 200:
                        failures.append(f"{kind}: {response.status_code} {response.text[:200]}")
                        return None
                    return response

                async def decisions() -> None:
                    while time.monotonic() < deadline:
                        response = await call("decision", "POST", "/v1/decisions", json=CONTRACT_EXAMPLE)
                        if response is not None:
                            digests.add(response.json()["ruleset"]["digest"])

                async def batches() -> None:
                    body = {"events": [CONTRACT_EXAMPLE] * 50}
                    while time.monotonic() < deadline:
                        response = await call("batch", "POST", "/v1/decisions:batch", json=body)
                        if response is not None:
                            results = response.json()["results"]
                            digests.update(item["decision"]["ruleset"]["digest"] for item in results)
                            if any(item["status"] != 200 for item in results):
                                failures.append("batch: an event was not decided")

                async def webhooks() -> None:
                    while time.monotonic() < deadline:
                        body = d.body_of(d.zendesk_late_delivery())
                        response = await call("webhook", "POST", "/v1/webhooks/zendesk", content=body,
                                              headers=d.zendesk_headers(body))
                        if response is not None:
                            digests.add(response.json()["decision"]["ruleset"]["digest"])

                await asyncio.gather(*[decisions() for _ in range(12)], *[batches() for _ in range(2)],
                                     *[webhooks() for _ in range(4)])

        threads = [threading.Thread(target=swap_rules), threading.Thread(target=sample_memory)]
        for thread in threads:
            thread.start()
        try:
            asyncio.run(run())
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        assert server.process.poll() is None, "the server died"

    settled = [sample for at, sample in memory if at >= WARMUP]
    growth = {}
    if settled:
        for pid in settled[0]:
            series = [sample[pid] for sample in settled if pid in sample]
            growth[pid] = (series[-1] - min(series[:3])) if len(series) > 3 else 0
    report = {
        "seconds": SECONDS, "workers": 2, "swaps": swaps, "requests": counts,
        "decisions": counts["decision"] + 50 * counts["batch"] + counts["webhook"],
        "failures": len(failures), "failure_examples": failures[:5],
        "latency_ms": {kind: {"p50": round(percentile(values, 0.5) * 1000, 2),
                              "p99": round(percentile(values, 0.99) * 1000, 2),
                              "mean": round(statistics.fmean(values) * 1000, 2) if values else 0}
                       for kind, values in latency.items()},
        "digests_seen": len(digests), "digests_all_valid": digests <= valid,
        "rss_kib_after_warmup": {str(pid): [sample.get(pid) for sample in settled][::5] for pid in growth},
        "rss_growth_kib_after_warmup": {str(pid): value for pid, value in growth.items()},
    }
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "load-with-faults.json").write_text(json.dumps(report, indent=2))
    assert failures == [], failures[:5]
    assert digests <= valid and len(digests) >= 2
    assert swaps["broken"] >= 2 and swaps["valid"] >= 3
    assert all(value < 10 * 1024 for value in growth.values()), growth
