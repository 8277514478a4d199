"""`recovery simulate --ray`: the same replay on Ray Data, for event files larger than one machine replays.

Optional (`pip install 'service-recovery[ray]'`); the in-process replay (`simulate.run`) needs nothing
of it. The pipeline:

1. The events file is cut into ranges of whole lines (`ranges()`: byte offset, length and the number
   of its first line), read by the driver only to find line ends. A Parquet file instead has one row
   per event: a string column `event` (the JSON object) and an integer column `line`.
   (`write_parquet()` writes one from a JSONL file.)
2. `ray.data.map_batches` runs `ReplayActor`, a callable class: each actor builds both rulesets once
   (from their files' bytes, shipped with the task, so workers need no copy of the rules directories)
   and decides every event of the batches it gets with `simulate.Comparer`, exactly as a local worker
   process does.
3. The driver adds the records up in line order (`simulate._add`), so the report is the very report
   `recovery simulate` writes for the same file and rulesets.

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
    """Ranges of whole lines of `path`: {"path", "offset", "length", "first_line"}."""
    with path.open("rb") as source:
        offset, line = 0, 1
        while True:
            source.seek(offset)
            block = source.read(size)
            if not block:
                return
            while len(block) >= size and b"\n" not in block[-size:]:  # a line longer than a range
                more = source.read(size)
                if not more:
                    break
                block += more
            if b"\n" in block and not block.endswith(b"\n"):
                block = block[: block.rfind(b"\n") + 1]
            yield {"path": str(path), "offset": offset, "length": len(block), "first_line": line}
            offset += len(block)
            line += block.count(b"\n")


class ReplayActor:
    """One Ray actor: both rulesets built once, then batch after batch of events decided."""

    def __init__(self, baseline: Mapping[str, bytes], candidate: Mapping[str, bytes]):
        self.comparer = simulate.Comparer(build(loader.load_sources(baseline)),
                                          build(loader.load_sources(candidate)))

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        firsts, records = [], []
        if "event" in batch:  # Parquet rows
            out = [self.comparer.record(int(line), text.encode() if isinstance(text, str) else bytes(text))
                   for line, text in zip(batch["line"], batch["event"])]
            firsts.append(min((record[0] for record in out), default=0))
            records.append(pickle.dumps(out))
        else:  # ranges of a JSONL file
            for path, offset, length, first in zip(batch["path"], batch["offset"], batch["length"],
                                                   batch["first_line"]):
                with open(path, "rb") as source:
                    source.seek(int(offset))
                    block = source.read(int(length))
                out = [self.comparer.record(number, raw.strip())
                       for number, raw in enumerate(block.split(b"\n"), start=int(first)) if raw.strip()]
                firsts.append(int(first))
                records.append(pickle.dumps(out))
        return {"first_line": firsts, "records": records}


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
    decided = dataset.map_batches(ReplayActor, fn_constructor_args=sources, concurrency=actors, num_cpus=0.5,
                                  batch_size=batch_size, batch_format="numpy")
    return report(decided.iter_rows(), text, baseline, candidate, sources, top)


def report(parts: Iterable[Mapping[str, Any]], events: str, baseline: Path, candidate: Path,
           sources: tuple[Mapping[str, bytes], Mapping[str, bytes]], top: int = 20) -> dict[str, Any]:
    """The driver's part: the actors' records (one row per range or Parquet batch) added up in line
    order into the summary `simulate.run` writes for the same events and rulesets."""
    totals = simulate._Totals()
    for part in sorted(parts, key=lambda row: int(row["first_line"])):
        for record in pickle.loads(part["records"]):
            simulate._add(totals, record, top)
    base, cand = (build(loader.load_sources(source)) for source in sources)
    try:
        return simulate.summarize(totals, events, baseline, candidate, base, cand)
    finally:
        base.engine.close()
        cand.engine.close()
