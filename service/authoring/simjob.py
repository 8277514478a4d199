"""One simulation in a process of its own, within a CPU and size budget (POST /v1/simulations).

A simulation builds two engines and decides every event twice: with a large
candidate ruleset that is tens of seconds of CPU and hundreds of MB, which must not
stall a decision worker's event loop, raise its memory for good, or depend on the
live engine staying alive. So the worker sends the job (both rulesets' files, the
events, the budget) to a new Python process on its standard input
and reads the answer on its standard output (`python -c`, running `main()`); the job's process builds its own
copies of both rulesets, so a reload meanwhile changes nothing for it, and all it
used is returned to the system when it exits.

The budget: at most `max_evaluations` events x rules (the two rulesets' rules
added), checked after both rulesets load and before any event is decided; and at
most `cpu_seconds` of CPU, enforced by the kernel (RLIMIT_CPU), so even a runaway
job stops. `run()` is the worker's side.
"""

from __future__ import annotations

import asyncio
import pickle
import resource
import sys
from dataclasses import dataclass
from typing import Any, Literal, Mapping

from ..engine.findings import Finding


@dataclass(frozen=True)
class Job:
    baseline: Mapping[str, bytes]
    candidate: Mapping[str, bytes]
    events: list[Any]
    label: str
    candidate_label: str
    html: bool
    cpu_seconds: float
    max_evaluations: int
    decisions: bool = False


@dataclass(frozen=True)
class Outcome:
    kind: Literal["ok", "invalid-rules", "too-large", "too-costly", "failed"]
    summary: dict[str, Any] | None = None
    html: str | None = None
    findings: tuple[Finding, ...] = ()
    detail: str = ""


def execute(job: Job) -> Outcome:
    """Run `job` in this process (the job process calls this)."""
    from ..engine.findings import RulesetInvalid
    from ..engine.loader import load_sources
    from ..engine.registry import build
    from .simulate import compare, report_html

    snapshots = []
    try:
        for sources in (job.baseline, job.candidate):
            snapshots.append(build(load_sources(sources)))
    except RulesetInvalid as exc:
        return Outcome("invalid-rules", findings=tuple(exc.findings))
    baseline, candidate = snapshots
    work = len(job.events) * (len(baseline.ruleset.rules) + len(candidate.ruleset.rules))
    if work > job.max_evaluations:
        return Outcome("too-large", detail=f"{len(job.events)} events x {len(baseline.ruleset.rules)} + "
                       f"{len(candidate.ruleset.rules)} rules is {work} rule evaluations; a simulation may do "
                       f"{job.max_evaluations}: send fewer events")
    summary = compare(job.events, baseline, candidate, label=job.label, baseline_label="live ruleset",
                      candidate_label=job.candidate_label, decisions=job.decisions)
    return Outcome("ok", summary=summary, html=report_html(summary) if job.html else None)


def main() -> int:
    job: Job = pickle.loads(sys.stdin.buffer.read())  # from the worker that started this process
    seconds = max(1, int(job.cpu_seconds + 0.999))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))
    try:
        outcome = execute(job)
    except Exception as exc:  # reported to the worker, which logs it and answers 500 without internals
        outcome = Outcome("failed", detail=f"{type(exc).__name__}: {exc}"[:500])
    sys.stdout.buffer.write(pickle.dumps(outcome))
    return 0


async def run(job: Job) -> Outcome:
    """Run `job` in a new process and wait for it without blocking the event loop."""
    process = await asyncio.create_subprocess_exec(
        # -c, not -m: the job's classes must pickle under this module's name, not __main__.
        sys.executable, "-c", "import sys, service.authoring.simjob as j; sys.exit(j.main())",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        async with asyncio.timeout(job.cpu_seconds * 3 + 60):  # CPU time is bounded; this bounds waiting
            out, err = await process.communicate(pickle.dumps(job))
    except TimeoutError:
        process.kill()
        await process.wait()
        return Outcome("too-costly", detail="the simulation did not finish in time")
    except asyncio.CancelledError:
        process.kill()
        raise
    if process.returncode != 0 or not out:
        return Outcome("too-costly", detail=f"the simulation used its {job.cpu_seconds:g} s of CPU; send fewer "
                       "events or a smaller ruleset") if process.returncode in (-9, -24) else \
            Outcome("failed", detail=err.decode(errors="replace")[-500:])
    outcome: Outcome = pickle.loads(out)
    return outcome

