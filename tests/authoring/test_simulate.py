"""`recovery simulate`: what a rules change does to decisions and cost."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import termios
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from tests.support import ROOT, RULES

SAMPLE = ROOT / "samples" / "events.jsonl"


def candidate(tmp_path: Path) -> Path:
    target = tmp_path / "candidate"
    shutil.copytree(RULES, target)
    outcome = target / "20-outcome.yaml"
    text = outcome.read_text()
    assert "            - {from: 3, percent_of_order: 15}\n" in text
    outcome.write_text(text.replace("            - {from: 3, percent_of_order: 15}\n",
                                    "            - {from: 3, percent_of_order: 20}\n", 1))
    return target


def simulate(events: Path, baseline: Path, cand: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "service.cli", "simulate", str(events), "--baseline", str(baseline),
                           "--candidate", str(cand), "--out", str(out), *extra],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def first_lines(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(SAMPLE.read_text().splitlines(keepends=True)[:count]))
    return path


def test_a_raised_refund_shows_as_cost_and_changed_decisions(tmp_path: Path) -> None:
    events = first_lines(tmp_path, 600)
    result = simulate(events, RULES, candidate(tmp_path), tmp_path / "out")
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "out" / "simulation.json").read_text())
    assert summary["events"] == summary["compared"] == 600
    assert 0 < summary["changed"] < 600
    eur = summary["cost_by_currency"]["EUR"]
    assert Decimal(eur["candidate"]) > Decimal(eur["baseline"])
    assert Decimal(eur["delta"]) == Decimal(eur["candidate"]) - Decimal(eur["baseline"])
    tiers = {row["segment"] for row in summary["cost_by"]["tier"]}
    assert tiers <= {"standard", "silver", "gold", "platinum"} and "standard" in tiers
    assert {row["segment"] for row in summary["cost_by"]["root_cause"]} >= {"provider"}
    # only outcome failures the firm caused at severity 3 moved, and each by 10% of its order
    movers = summary["top_movers"]["EUR"]
    assert movers and all(Decimal(m["delta"]) > 0 for m in movers)
    lines = events.read_text().splitlines()
    for mover in movers:
        event = json.loads(lines[mover["line"] - 1])
        assert event["failure"]["severity"] == 3 and event["failure"]["root_cause"] in ("provider", "unknown")
    # owed money (the duplicate charges in the sample) is the same on both sides; the change is goodwill
    owed = summary["owed_by_currency"]["EUR"]
    assert Decimal(owed["baseline"]) > 0 and Decimal(owed["delta"]) == 0
    assert Decimal(summary["goodwill_by_currency"]["EUR"]["delta"]) == Decimal(eur["delta"])
    assert set(summary["justice_gaps"]["baseline"]) == {"distributive", "procedural", "interactional"}
    assert 0 <= summary["approval_rate"]["baseline"] <= summary["approval_rate"]["candidate"] <= 1
    html = (tmp_path / "out" / "simulation.html").read_text()
    assert html.count("<svg") >= 4
    assert not re.search(r'<script[^>]+src=|<link|(src|href)="https?://', html)  # nothing fetched: self-contained
    assert "Cost by tier" in html and "Events whose cost moved most" in html and "Owed and goodwill" in html


def test_identical_rulesets_change_nothing(tmp_path: Path) -> None:
    events = first_lines(tmp_path, 200)
    result = simulate(events, RULES, RULES, tmp_path / "out", "--workers", "1")
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "out" / "simulation.json").read_text())
    assert summary["changed"] == 0
    assert all(row["delta"] in ("0", "0.00") for row in summary["cost_by_currency"].values())
    assert summary["top_movers"] == {}


def test_invalid_lines_are_counted_not_fatal(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text(SAMPLE.read_text().splitlines()[0] + "\n{\"failure\": {}}\nnot json\n")
    result = simulate(events, RULES, RULES, tmp_path / "out", "--workers", "1")
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "out" / "simulation.json").read_text())
    assert summary["events"] == 3 and summary["invalid"] == 2 and summary["compared"] == 1
    assert summary["invalid_examples"][0].startswith("line 2:")


def test_progress_bar_on_a_terminal_and_quiet_when_piped(tmp_path: Path) -> None:
    events = first_lines(tmp_path, 300)
    piped = simulate(events, RULES, RULES, tmp_path / "piped", "--workers", "1")
    assert "simulating" not in piped.stderr and "it/s" not in piped.stderr

    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal has a size
    process = subprocess.Popen([sys.executable, "-m", "service.cli", "simulate", str(events), "--baseline",
                                str(RULES), "--candidate", str(RULES), "--out", str(tmp_path / "tty"),
                                "--workers", "1"], stdout=secondary, stderr=secondary, cwd=ROOT)
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=120)
    os.close(primary)
    assert process.returncode == 0
    assert b"simulating" in output and b"300/300" in output


def test_sample_events_are_reproducible_and_documented() -> None:
    result = subprocess.run([sys.executable, "-m", "service.cli", "sample-events", "--count", "3000", "--seed", "7"],
                            capture_output=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0
    assert result.stdout == SAMPLE.read_bytes()
    assert (ROOT / "samples" / "README.md").is_file()


def test_the_report_is_the_same_however_the_file_is_cut_and_whoever_finishes_first(tmp_path: Path) -> None:
    """Workers add up their own ranges and the parent merges the totals as they come back: one
    process, two, or any cut of the file merged in any order give the report that adding the
    events one by one in line order gives (the movers, the first invalid lines, every sum)."""
    import orjson

    from service.authoring import samples, simulate as replay
    from service.engine.registry import load_snapshot

    path = tmp_path / "events.jsonl"
    with path.open("wb") as out:
        for number, event in enumerate(samples.generate(2700, seed=29)):
            out.write(orjson.dumps(event) + b"\n")
            if number % 300 == 7:  # invalid events in several ranges (more than the report shows), blank lines
                out.write(b'{"failure": "not an object"}\n' if number % 600 == 7 or number > 2100 else b"\n")
    cand = candidate(tmp_path)
    assert len(list(replay.ranges(path))) >= 2
    one = replay.run(path, RULES, cand, workers=1, progress=False)
    two = replay.run(path, RULES, cand, workers=2, progress=False)
    assert one == two
    assert one["invalid"] == 6 and one["changed"] > 0 and len(one["top_movers"]["EUR"]) == 20
    invalid = [f"line {number}" for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1)
               if raw.startswith(b'{"failure": "not')][:5]
    assert [example.split(":")[0] for example in one["invalid_examples"]] == invalid

    base, new = load_snapshot(RULES), load_snapshot(cand)
    comparer = replay.Comparer(base, new)
    lines = [(number, raw.strip()) for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1)
             if raw.strip()]
    by_one = replay._Totals()
    for number, raw in lines:
        replay._add(by_one, comparer.record(number, raw), 20)
    cut = replay._Totals()
    for start in reversed(range(0, len(lines), 137)):
        replay._merge(cut, replay.decide_part(comparer, lines[start:start + 137]), 20)
    for totals in (by_one, cut):
        assert replay.summarize(totals, str(path), RULES, cand, base, new) == one
    base.engine.close()
    new.engine.close()
