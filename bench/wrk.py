"""Closed-loop load with wrk: requests/s and latency at saturation, and the 1M-decision drive.

wrk sends GETs unless a Lua script builds the requests, so `script()` writes one
that pre-formats a POST for each benchmark event and cycles through them, and
whose `done()` prints the summary as one JSON line (exact percentiles, error
counts) instead of wrk's human table. wrk runs for a duration, not a count (a
thread that stops early still waits for the duration), so the memory run tops
up in chunks until it has its count.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

MARK = "BENCH-JSON "
THREADS = 2
CONNECTIONS = 32

_TEMPLATE = """-- Written by bench/wrk.py for one run; not kept.
local bodies = {
%(bodies)s
}
local requests = {}
local counter = 0

function init(args)
  for i, body in ipairs(bodies) do
    requests[i] = wrk.format("POST", "%(path)s", {["Content-Type"] = "application/json"}, body)
  end
end

function request()
  counter = counter + 1
  return requests[(counter %% #requests) + 1]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%(mark)s{"requests": %%d, "duration_us": %%d, "bytes": %%d, ' ..
    '"errors": {"connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d}, ' ..
    '"latency_us": {"p50": %%d, "p90": %%d, "p99": %%d, "max": %%d, "mean": %%.1f}}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


_UNIQUE = """-- Written by bench/wrk.py for one run; not kept. Every request gets an event_id of its own.
local heads = {
%(heads)s
}
local tails = {
%(tails)s
}
local counter = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", tostring(threads))
end

function request()
  counter = counter + 1
  local i = (counter %% #heads) + 1
  return wrk.format("POST", "%(path)s", {["Content-Type"] = "application/json"},
                    heads[i] .. tid .. "-" .. counter .. tails[i])
end
"""

ID_MARK = "@ID@"
"""Where `unique_script` puts each request's own id in a body (inside the event_id string)."""


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    errors: dict[str, int]
    latency_us: dict[str, float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "seconds": round(self.seconds, 3), "rps": round(self.rps, 1),
                "errors": self.errors, "latency_ms": {key: round(value / 1000, 3)
                                                     for key, value in self.latency_us.items()}}


def available() -> bool:
    return shutil.which("wrk") is not None


def script(path: Path, route: str, bodies: Sequence[bytes]) -> Path:
    """Write the Lua script that POSTs `bodies` in turn to `route`."""
    quoted = ",\n".join(f"  [==[{body.decode()}]==]" for body in bodies)
    text = _TEMPLATE % {"bodies": quoted, "path": route, "mark": MARK}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def unique_script(path: Path, route: str, bodies: Sequence[bytes], prefix: str) -> Path:
    """Like `script`, but each request's event_id is `<prefix>-<thread>-<n>`: no two are the same,
    so with the ledger on every request is a first decision (claimed and recorded), never a replay.
    Bodies carry ID_MARK where the id goes."""
    heads, tails = [], []
    for body in bodies:
        head, _, tail = body.decode().partition(ID_MARK)
        heads.append(f"  [==[{head}{prefix}-]==]")
        tails.append(f"  [==[{tail}]==]")
    done = _TEMPLATE[_TEMPLATE.index("function done"):] % {"mark": MARK}
    text = _UNIQUE % {"heads": ",\n".join(heads), "tails": ",\n".join(tails), "path": route} + "\n" + done
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def run(url: str, lua: Path, seconds: float, connections: int = CONNECTIONS,
        prefix: Sequence[str] = ()) -> Result:
    """One wrk run (after `prefix`, e.g. a taskset command); raises when wrk fails or any request failed."""
    command = [*prefix, "wrk", f"-t{THREADS}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
               "-s", str(lua), url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    line = next((line for line in done.stdout.splitlines() if line.startswith(MARK)), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    data = json.loads(line[len(MARK):])
    result = Result(data["requests"], data["duration_us"] / 1e6, data["errors"], data["latency_us"])
    if result.failed:
        raise RuntimeError(f"{result.failed} requests failed under wrk ({result.errors}); see the server log")
    return result
