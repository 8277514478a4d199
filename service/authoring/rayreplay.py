"""`recovery simulate --ray`: the same replay on Ray Data, for event files larger than one machine replays.

Optional (`pip install 'service-recovery[ray]'`); the in-process replay (`simulate.run`) needs nothing
of it. The pipeline:

1. The events file is cut into ranges of whole lines (`ranges()`: byte offset, length and the number
   of its first line), read by the driver only to find line ends. A Parquet file instead has one row
   per event: a string column `event` (the JSON object) and an integer column `line`.
   (`write_parquet()` writes one from a JSONL file.)
2. `ray.data.map_batches` runs `ReplayActor`, a callable class: each actor builds both rulesets once
   (from their files' bytes, shipped with the task, so workers need no copy of the rules directories)
   and decides every event of the batches it gets with `simulate.Comparer`, adding them up per range
   (`simulate.decide_part`), exactly as a local worker process does.
3. The driver merges those totals (`simulate._merge`: exact sums, the largest movers, the first
   invalid lines, whatever order they come in), so the report is the very report `recovery simulate`
   writes for the same file and rulesets.

On a cluster, start the driver with `RAY_ADDRESS=ray://head:10001` (or `ray.init(address=...)` already
called) and put the events where every node can read them at the same path (a shared file system for
JSONL; Parquet may also be an `s3://` or `gs://` URL that pyarrow reads).
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from ..engine import loader, rulesdir
from ..engine.registry import build
from . import simulate

RANGE_BYTES = 4 << 20  # about 10,000 events per range


def ranges(path: Path, size: int = RANGE_BYTES) -> Iterator[dict[str, Any]]:
    """Ranges of whole lines of `path`, as the in-process replay cuts it (`simulate.ranges`), larger."""
    return simulate.ranges(path, size)


class ReplayActor:
    """One Ray actor: both rulesets built once, then batch after batch of events decided."""

    def __init__(self, baseline: Mapping[str, bytes], candidate: Mapping[str, bytes], top: int = 20):
        self.comparer = simulate.Comparer(build(loader.load_sources(baseline)),
                                          build(loader.load_sources(candidate)))
        self.top = top

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        firsts, totals = [], []
        if "event" in batch:  # Parquet rows
            lines = [(int(line), text.encode() if isinstance(text, str) else bytes(text))
                     for line, text in zip(batch["line"], batch["event"])]
            firsts.append(min((line for line, _ in lines), default=0))
            totals.append(pickle.dumps(simulate.decide_part(self.comparer, lines, self.top)))
        else:  # ranges of a JSONL file
            for path, offset, length, first in zip(batch["path"], batch["offset"], batch["length"],
                                                   batch["first_line"]):
                part = {"path": path, "offset": offset, "length": length, "first_line": first}
                firsts.append(int(first))
                totals.append(pickle.dumps(simulate.decide_part(self.comparer, simulate.lines_of(part), self.top)))
        return {"first_line": firsts, "totals": totals}


def write_parquet(events: Path, out: Path, rows_per_group: int = 50_000) -> int:
    """The JSONL file as Parquet (columns `line`, `event`), for object stores; the number of events."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("line", pa.int64()), ("event", pa.string())])
    count = 0
    with events.open("rb") as source, pq.ParquetWriter(str(out), schema) as writer:
        lines: list[int] = []
        texts: list[str] = []
        for number, raw in enumerate(source, start=1):
            raw = raw.strip()
            if not raw:
                continue
            lines.append(number)
            texts.append(raw.decode("utf-8", errors="replace"))
            if len(lines) == rows_per_group:
                writer.write_table(pa.table({"line": lines, "event": texts}, schema=schema))
                count += len(lines)
                lines, texts = [], []
        if lines:
            writer.write_table(pa.table({"line": lines, "event": texts}, schema=schema))
            count += len(lines)
    return count


def run(events: str | Path, baseline: Path, candidate: Path, *, actors: int | None = None,
        top: int = 20) -> dict[str, Any]:
    """Replay `events` (JSONL or .parquet) through both rulesets on Ray; the same summary as `simulate.run`."""
    import ray

    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS"), include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
    sources = (rulesdir.read(baseline), rulesdir.read(candidate))
    actors = actors or max(1, int(ray.available_resources().get("CPU", 1)))
    text = str(events)
    if text.endswith(".parquet"):
        # Reading takes little CPU; asking a whole one for it would wait for an actor's, which never frees.
        dataset = ray.data.read_parquet(text, ray_remote_args={"num_cpus": 0.1})
        batch_size = 5_000
    else:
        parts = list(ranges(Path(events)))
        dataset = ray.data.from_items(parts, override_num_blocks=max(1, len(parts)))  # a block per range
        actors = max(1, min(actors, len(parts)))
        batch_size = 1
    # Half a CPU each in Ray's accounting (each still runs on a core of its own): Ray Data's file
    # listing task asks a whole CPU, which actors holding every CPU would keep from ever running.
    decided = dataset.map_batches(ReplayActor, fn_constructor_args=(*sources, top), concurrency=actors, num_cpus=0.5,
                                  batch_size=batch_size, batch_format="numpy")
    return report(decided.iter_rows(), text, baseline, candidate, sources, top)


def report(parts: Iterable[Mapping[str, Any]], events: str, baseline: Path, candidate: Path,
           sources: tuple[Mapping[str, bytes], Mapping[str, bytes]], top: int = 20) -> dict[str, Any]:
    """The driver's part: the actors' totals (one row per range or Parquet batch) merged, in any order,
    into the summary `simulate.run` writes for the same events and rulesets."""
    totals = simulate._Totals()
    for part in parts:
        simulate._merge(totals, pickle.loads(part["totals"]), top)
    base, cand = (build(loader.load_sources(source)) for source in sources)
    try:
        return simulate.summarize(totals, events, baseline, candidate, base, cand)
    finally:
        base.engine.close()
        cand.engine.close()
