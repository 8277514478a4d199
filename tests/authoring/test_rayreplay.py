"""The Ray Data replay: ranges of whole lines, and the very report the in-process replay writes."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from service.authoring import rayreplay, samples, simulate
from service.engine import rulesdir

ROOT = Path(__file__).resolve().parents[2]


def _events(path: Path, count: int) -> Path:
    with path.open("wb") as out:
        for event in samples.generate(count, seed=23):
            out.write(orjson.dumps(event) + b"\n")
        out.write(b"\n{not json}\n")
    return path


@pytest.mark.parametrize("size", [64, 1000, 1 << 20])
def test_ranges_cover_every_line_once_with_its_number(tmp_path: Path, size: int) -> None:
    path = _events(tmp_path / "events.jsonl", 300)
    lines = path.read_bytes().split(b"\n")
    seen = []
    for part in rayreplay.ranges(path, size):
        with path.open("rb") as source:
            source.seek(part["offset"])
            block = source.read(part["length"])
        assert block.endswith(b"\n") or part["offset"] + part["length"] == path.stat().st_size
        for number, line in enumerate(block.split(b"\n")[:-1], start=part["first_line"]):
            assert line == lines[number - 1]
            seen.append(number)
    assert seen == list(range(1, len(lines)))


def _candidate(tmp_path: Path) -> Path:
    candidate = tmp_path / "candidate"
    candidate.mkdir()
    for source in (ROOT / "rules").glob("*.yaml"):
        text = source.read_text()
        (candidate / source.name).write_text(text.replace('max: {EUR: "150.00"}', 'max: {EUR: "40.00"}'))
    return candidate


def test_the_actors_totals_add_up_to_the_in_process_report(tmp_path: Path) -> None:
    """What Ray runs, without Ray: two actors each decide some of the ranges (as map_batches hands them
    over, a batch of one range), and the driver's report equals `recovery simulate`'s, whatever order
    the actors' rows come back in. (The `ray` extra is not in the default install; the test below
    runs the same through Ray Data under `make test-deep`.)"""
    path = _events(tmp_path / "events.jsonl", 400)
    candidate = _candidate(tmp_path)
    local = simulate.run(path, ROOT / "rules", candidate, workers=1, progress=False)
    assert local["changed"] > 0 and local["invalid"] == 1
    sources = (rulesdir.read(ROOT / "rules"), rulesdir.read(candidate))
    actors = [rayreplay.ReplayActor(*sources), rayreplay.ReplayActor(*sources)]
    rows = []
    for number, part in enumerate(rayreplay.ranges(path, 20_000)):
        out = actors[number % 2]({key: [value] for key, value in part.items()})
        rows.extend({"first_line": first, "totals": totals}
                    for first, totals in zip(out["first_line"], out["totals"]))
    assert len(rows) > 3
    remote = rayreplay.report(reversed(rows), str(path), ROOT / "rules", candidate, sources)
    assert remote == local


@pytest.mark.deep
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")  # Ray's own, about itself
def test_ray_gives_the_in_process_report(tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="the `ray` extra is not installed")
    path = _events(tmp_path / "events.jsonl", 1500)
    candidate = _candidate(tmp_path)
    local = simulate.run(path, ROOT / "rules", candidate, workers=1, progress=False)
    assert local["changed"] > 0 and local["invalid"] == 1
    try:
        remote = rayreplay.run(path, ROOT / "rules", candidate, actors=2)
        parquet = tmp_path / "events.parquet"
        assert rayreplay.write_parquet(path, parquet) == 1501
        from_parquet = rayreplay.run(str(parquet), ROOT / "rules", candidate, actors=2)
    finally:
        import ray

        ray.shutdown()
    assert remote == local
    from_parquet["events_file"] = local["events_file"]
    assert from_parquet == local
