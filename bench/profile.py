"""Where the time goes on the decision path: py-spy samples of the real server and of the in-process loop.

    python -m bench.profile [--seconds 10]      (make bench-profile)

1. HTTP: `recovery serve` with one worker, wrk saturating POST /v1/decisions, and
   py-spy sampling that worker; then the same for POST /bench/noop, so what the
   decision adds can be told from what every request costs.
2. In process: py-spy sampling a loop of model_validate_json -> decide -> orjson.dumps.

Each profile is summarised by self time (the innermost Python frame; time inside a
C extension such as durable_rules or orjson counts for the line that called it)
and by inclusive time (every frame on the stack). The summaries go to
bench/results/profile.md; the raw collapsed stacks stay in the scratch directory
(`py-spy` can turn them into a flame graph).
"""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Sequence

import orjson

from . import events, server, wrk

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "results" / "profile.md"
PY_SPY = Path(sys.executable).parent / "py-spy"
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")

#: Layers of the request path, by source file prefix. A sample counts for the
#: layer of its innermost frame that has one (a stdlib helper counts for its caller).
LAYERS = (
    ("service/engine/runtime.py", "engine match: fact JSON + durable_rules C binding"),
    ("service/recovery/normalize.py", "normalize"),
    ("service/recovery/combine.py", "combine"),
    ("service/money.py", "money: Decimal rounding and formatting"),
    ("service/recovery/decide.py", "render + decision_id"),
    ("service/models.py", "pydantic: event validation (and decision_id's model_dump_json)"),
    ("pydantic", "pydantic: event validation (and decision_id's model_dump_json)"),
    ("service/api/", "service API layer: body limit, read_json, route, auth"),
    ("service/auth", "service API layer: body limit, read_json, route, auth"),
    ("service/problems", "service API layer: body limit, read_json, route, auth"),
    ("fastapi/", "FastAPI + Starlette: middleware, routing, dependencies, Request"),
    ("starlette/", "FastAPI + Starlette: middleware, routing, dependencies, Request"),
    ("uvicorn/", "uvicorn + httptools: parsing, socket writes"),
    ("httptools", "uvicorn + httptools: parsing, socket writes"),
    ("bench/profile.py", "orjson.dumps (C, counted on the loop's own line)"),
    ("asyncio/", "event loop (uvloop, tasks, wait_for)"),
    ("uvloop", "event loop (uvloop, tasks, wait_for)"),
)


#: Library functions worth their inclusive time: validation, dependency solving, logging, metrics, writes.
NOTABLE = {"BaseModel.model_validate_json", "BaseModel.model_dump_json", "solve_dependencies", "wait_for",
           "Logger._log", "Logger.handle", "StreamHandler.emit", "MutexValue.inc", "Response.__call__",
           "RequestResponseCycle.send", "HttpToolsProtocol.data_received", "Request.body", "uuid4"}


def layer_of(frames: Sequence[tuple[str, str, str]]) -> str:
    for _, file, _ in reversed(frames):
        for prefix, layer in LAYERS:
            if file.startswith(prefix):
                return layer
    return "other"


def _frames(stack: str) -> list[tuple[str, str, str]]:
    out = []
    for frame in stack.split(";"):
        found = _FRAME.match(frame)
        if found:
            out.append((found["function"], found["file"], found["line"] or ""))
        else:
            out.append((frame, "", ""))
    return out


def summarise(raw: Path, title: str, top: int = 25) -> str:
    """Self and inclusive time of the collapsed stacks in `raw`, as markdown."""
    selfs: collections.Counter[str] = collections.Counter()
    lines_self: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    layers: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = _frames(stack)
        function, file, number = frames[-1]
        selfs[f"{function} ({file})"] += count
        layers[layer_of(frames)] += count
        lines_self[f"{file}:{number} {function}"] += count
        for name in {f"{function} ({file})" for function, file, _ in frames}:
            inclusive[name] += count
    if not total:
        return f"## {title}\n\nno samples\n"

    def share(count: int) -> str:
        return f"{100 * count / total:.1f}%"

    out = [f"## {title}", "", f"{total:,} samples.", "", "By layer (innermost frame that belongs to one):", "",
           "| share | layer |", "|---|---|"]
    out += [f"| {share(count)} | {name} |" for name, count in layers.most_common()]
    out += ["", "Self time (innermost Python frame):", "", "| share | function |", "|---|---|"]
    out += [f"| {share(count)} | `{name}` |" for name, count in selfs.most_common(top)]
    out += ["", "Self time by line:", "", "| share | line |", "|---|---|"]
    out += [f"| {share(count)} | `{name}` |" for name, count in lines_self.most_common(top)]
    out += ["", "Inclusive time of the service's own functions and of library calls the request path makes "
            "(the server's outer loop left out; middleware frames include everything they wrap):", "",
            "| share | function |", "|---|---|"]
    shown = [(name, count) for name, count in inclusive.most_common()
             if (" (service/" in name and "service/cli.py" not in name) or name.split(" (")[0] in NOTABLE][:top]
    out += [f"| {share(count)} | `{name}` |" for name, count in shown]
    return "\n".join(out) + "\n"


def _record(pid: int, seconds: float, raw: Path) -> None:
    done = subprocess.run([str(PY_SPY), "record", "--pid", str(pid), "--duration", str(round(seconds)),
                           "--rate", "400", "--format", "raw", "--output", str(raw), "--nonblocking"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"py-spy failed: {done.stderr}")


def profile_http(route: str, seconds: float, tmp: Path, bodies: Sequence[bytes]) -> Path:
    raw = tmp / f"profile-http{route.replace('/', '-')}.raw"
    with server.running(1, tmp / "server-profile.log") as srv:
        lua = wrk.script(tmp / f"profile{route.replace('/', '-')}.lua", route, bodies)
        wrk.run(srv.url, lua, 2)  # warm up
        load = threading.Thread(target=wrk.run, args=(srv.url, lua, seconds + 3))
        load.start()
        time.sleep(1)
        try:
            _record(srv.worker_pids()[0], seconds, raw)
        finally:
            load.join()
    return raw


def profile_inprocess(seconds: float, tmp: Path) -> Path:
    raw = tmp / "profile-inprocess.raw"
    loop = subprocess.Popen([sys.executable, "-m", "bench.profile", "--loop", str(seconds + 4)],
                            cwd=BENCH.parent)
    try:
        time.sleep(3)  # load the rules and warm up before sampling
        _record(loop.pid, seconds, raw)
    finally:
        loop.wait(timeout=seconds + 60)
    return raw


def decide_loop(seconds: float) -> None:
    """Decide the benchmark events over and over, as POST /v1/decisions does without HTTP."""
    from service.engine.registry import load_snapshot
    from service.models import FailureEvent
    from service.recovery.decide import decide

    snapshot = load_snapshot(BENCH.parent / "rules")
    bodies = events.bodies(100)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for body in bodies:
            orjson.dumps(decide(snapshot, FailureEvent.model_validate_json(body)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--tmp", type=Path, default=BENCH / "results" / "tmp")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--loop", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.loop:
        decide_loop(args.loop)
        return 0
    if not wrk.available():
        print("wrk is not installed; `make bench` installs it", file=sys.stderr)
        return 2
    args.tmp.mkdir(parents=True, exist_ok=True)
    bodies = events.bodies(100)
    sections = ["# Profiles of the decision path", "",
                f"Written by `python -m bench.profile --seconds {args.seconds:g}` (py-spy, 400 samples/s, idle "
                "time left out) on a shared 2-core machine. See bench/README.md, \"Where the time goes\".", ""]
    for route in ("/v1/decisions", "/bench/noop"):
        print(f"profiling POST {route} under wrk", flush=True)
        raw = profile_http(route, args.seconds, args.tmp, bodies)
        sections.append(summarise(raw, f"POST {route}, one worker, wrk at saturation"))
    print("profiling the in-process decision loop", flush=True)
    sections.append(summarise(profile_inprocess(args.seconds, args.tmp),
                              "In process: model_validate_json -> decide -> orjson.dumps"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(sections))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
