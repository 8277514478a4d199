"""The `recovery` command: serve, decide, and the rules tools.

    recovery serve                      run the HTTP service (settings from RECOVERY_* variables)
    recovery decide EVENT.json          print the decision the HTTP route gives (- reads stdin)
    recovery rules check [DIR]          validate and lint a rules directory
    recovery rules test [DIR]           run its case tables and invariants, report rule coverage
    recovery simulate EVENTS.jsonl --baseline DIR --candidate DIR
                                        what a rules change does to decisions and cost
    recovery simulate --from-ledger --baseline DIR --candidate DIR
                                        the same, replaying the events the ledger recorded
    recovery ledger migrate             create or upgrade the ledger's tables (RECOVERY_LEDGER_URL)
    recovery ledger prune               delete records past RECOVERY_LEDGER_RETENTION_DAYS
    recovery ledger erase CUSTOMER_ID   delete one customer's records
    recovery mcp                        serve the decision tools over MCP on stdio (desktop AI clients)
    recovery tools --format openai|anthropic
                                        the decision tools as strict function-calling schemas
    recovery sample-events              write a realistic sample of events as JSONL
    recovery openapi [--write]          print or rewrite openapi/openapi.json
    recovery schema [--write]           print or rewrite rules/schema.json

Exit status: 0 done (warnings allowed); 1 the input was refused, the rules have
errors or a test failed; 2 usage or configuration errors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Sequence

import orjson

from .settings import SHIPPED_RULES, ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent

# glibc returning freed memory to the OS on every evaluation costs ~40% of an
# evaluation (docs/engine.md); workers read these when they start.
MALLOC_ENV = {"MALLOC_TRIM_THRESHOLD_": "268435456", "MALLOC_MMAP_THRESHOLD_": "268435456"}


def _rules_dir(arg: str | None) -> Path:
    return Path(arg or os.environ.get("RECOVERY_RULES_DIR") or SHIPPED_RULES)


def cmd_serve(args: argparse.Namespace) -> int:
    missing = {key: value for key, value in MALLOC_ENV.items() if key not in os.environ}
    if missing and not os.environ.get("RECOVERY_NO_REEXEC"):
        # glibc reads these at process start: restart once with them set.
        env = {**os.environ, **missing, "RECOVERY_NO_REEXEC": "1"}
        os.execve(sys.executable, [sys.executable, "-m", "service.cli", *sys.argv[1:]], env)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    import atexit
    import logging.config
    import shutil
    import tempfile

    from .connections import Limits
    from .logs import uvicorn_config
    from .server import serve

    if settings.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Workers write metric samples here so that any worker's /metrics reports all of them.
        metrics_dir = tempfile.mkdtemp(prefix="recovery-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        atexit.register(shutil.rmtree, metrics_dir, True)
    options = {"host": settings.host, "port": settings.port, "http": "service.connections:GuardedProtocol",
               "loop": "uvloop", "access_log": False, "log_config": uvicorn_config(settings.log_level),
               "log_level": settings.log_level, "timeout_graceful_shutdown": 30, "server_header": False,
               "timeout_keep_alive": settings.idle_timeout_seconds,
               "forwarded_allow_ips": settings.forwarded_allow_ips}
    limits = Limits(settings.max_header_bytes, settings.max_headers, settings.header_timeout_seconds,
                    settings.max_connections)
    logging.config.dictConfig(uvicorn_config(settings.log_level))
    return serve(options, limits, settings.workers, settings.reload_interval_seconds,
                 settings.reload_quiet_seconds, settings.rules_dir)


def _load(path: str | None):  # type: ignore[no-untyped-def]
    from .engine.findings import RulesetInvalid
    from .engine.registry import load_snapshot

    directory = _rules_dir(path)
    try:
        return load_snapshot(directory)
    except RulesetInvalid as exc:
        print(f"the rules in {directory} do not load:", file=sys.stderr)
        for finding in exc.findings:
            print("  " + finding.render(), file=sys.stderr)
        return None


def cmd_decide(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from . import strictjson
    from .models import event_from_json
    from .problems import from_errors, from_refused, from_validation
    from .recovery.decide import EventRejected, decide

    snapshot = _load(args.rules)
    if snapshot is None:
        return 2
    try:
        raw = sys.stdin.buffer.read() if args.event == "-" else Path(args.event).read_bytes()
    except OSError as exc:
        print(f"cannot read {args.event}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        event = event_from_json(raw)
        decision = decide(snapshot, event, explain=args.explain)
    except strictjson.JSONRefused as exc:
        problem = from_refused(exc)
    except ValidationError as exc:
        problem = from_validation(exc)
    except EventRejected as exc:
        problem = from_errors(exc.errors)
    else:
        option = orjson.OPT_INDENT_2 if args.pretty else 0
        sys.stdout.buffer.write(orjson.dumps(decision, option=option) + b"\n")
        return 0
    print(orjson.dumps(problem.body(), option=orjson.OPT_INDENT_2).decode(), file=sys.stderr)
    return 1


def cmd_mcp(args: argparse.Namespace) -> int:
    """MCP over stdio: standard output carries the protocol, so every log line goes to standard error."""
    import asyncio
    import logging

    from .agents.server import StdioRefused, serve_stdio, stdio_caller
    from .engine.registry import Registry

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
        caller = stdio_caller(settings.key_store(), settings.mcp_api_key or None)
    except (ConfigError, StdioRefused, ValueError) as exc:
        print(f"recovery mcp: {exc}", file=sys.stderr)
        return 2
    registry = Registry(Path(args.rules) if args.rules else settings.rules_dir)
    registry.reload()
    if registry.current is None:
        print(f"recovery mcp: the rules in {registry.directory} do not load; run `recovery rules check`",
              file=sys.stderr)
        return 2
    try:
        asyncio.run(serve_stdio(registry, caller, settings.reload_interval_seconds, settings.reload_quiet_seconds))
    finally:
        registry.close()
    return 0


def cmd_tools(args: argparse.Namespace) -> int:
    from .agents.functions import functions

    snapshot = _load(args.rules)
    if snapshot is None:
        return 2
    try:
        document = functions(args.format, snapshot.ruleset)
    finally:
        snapshot.engine.close()
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return 0


def cmd_rules_check(args: argparse.Namespace) -> int:
    from .authoring.check import check_dir

    directory = _rules_dir(args.directory)
    report = check_dir(directory)
    if args.format != "text":
        from .authoring.formats import as_json, as_sarif

        document = as_json(report, directory) if args.format == "json" else as_sarif(report, directory)
        sys.stdout.buffer.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
        return 1 if report.errors else 0
    for finding in report.findings:
        print(finding.render())
    rules = len(report.ruleset.rules) if report.ruleset else 0
    print(f"{directory}: {rules} rules, {len(report.errors)} errors, {len(report.warnings)} warnings")
    return 1 if report.errors else 0


def cmd_rules_test(args: argparse.Namespace) -> int:
    from .authoring.cases import load_cases, local_decider, run_case
    from .authoring.invariants import load_invariants, verify

    directory = _rules_dir(args.directory)
    snapshot = _load(str(directory))
    if snapshot is None:
        return 1
    failed = 0
    cases, problems = load_cases(directory / "cases")
    for finding in problems:
        print(finding.render())
    decider = local_decider(snapshot)
    fired: set[str] = set()
    for case in cases:
        result = run_case(case, decider)
        fired.update(result.fired)
        if not result.passed:
            failed += 1
            print(f"FAIL {case.where}: {case.note}")
            for mismatch in result.mismatches:
                print(f"     {mismatch.key}: expected {mismatch.expected!r}, got {mismatch.actual!r}")
    rules = snapshot.ruleset.rules
    covered = sum(1 for rule in rules if rule.id in fired)
    coverage = 100.0 * covered / len(rules) if rules else 100.0
    print(f"cases: {len(cases) - failed} passed, {failed} failed")
    print(f"coverage: {covered}/{len(rules)} rules fired by a case ({coverage:.1f}%)")
    for rule in rules:
        if rule.id not in fired:
            print(f"     not fired by any case: {rule.id} ({rule.file}:{rule.line})")
    broken = 0
    if not args.no_invariants:
        invariants, problems_inv = load_invariants(directory / "invariants", snapshot.ruleset)
        for finding in problems_inv:
            print(finding.render())
        problems += problems_inv
        for invariant in invariants:
            violation = verify(invariant, snapshot, args.examples)
            if violation is None:
                print(f"ok   invariant {invariant.id}")
                continue
            broken += 1
            print(f"FAIL invariant {invariant.id} ({invariant.file}:{invariant.line}): {violation.detail}")
            print("     smallest event that breaks it:")
            print("     " + json.dumps(violation.event, sort_keys=True))
        print(f"invariants: {len(invariants) - broken} held, {broken} broken ({args.examples} events each)")
    snapshot.engine.close()
    below = args.min_coverage is not None and coverage < args.min_coverage
    if below:
        print(f"coverage {coverage:.1f}% is below the required {args.min_coverage:g}%")
    bad_files = any(finding.severity == "error" for finding in problems)
    return 1 if failed or broken or below or bad_files else 0


def cmd_simulate(args: argparse.Namespace) -> int:
    import tempfile

    from .authoring.simulate import run, write_reports

    for path in (args.baseline, args.candidate):
        if _load(path) is None:
            return 1
    if (args.events is None) == (args.from_ledger is None):
        print("give either an events file or --from-ledger", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="recovery-simulate-") as scratch:
        events = Path(args.events) if args.events else None
        if events is None:
            events = Path(scratch) / "ledger-events.jsonl"
            exported = _export_ledger(args.from_ledger, events, args.since_days, args.limit)
            if exported is None:
                return 2
            print(f"replaying {exported} events recorded in the ledger", file=sys.stderr)
        if args.ray:
            try:
                from .authoring import rayreplay
            except ImportError:
                print("--ray needs the `ray` extra: pip install 'service-recovery[ray]'", file=sys.stderr)
                return 2
            summary = rayreplay.run(events, Path(args.baseline), Path(args.candidate), actors=args.workers,
                                    top=args.top)
        else:
            summary = run(events, Path(args.baseline), Path(args.candidate), workers=args.workers, top=args.top)
    json_path, html_path = write_reports(summary, Path(args.out))
    print(f"{summary['events']} events, {summary['compared']} compared, {summary['changed']} decisions changed "
          f"({summary['changed_rate']:.1%}); invalid {summary['invalid']}")
    for currency, row in summary["cost_by_currency"].items():
        print(f"  cost {currency}: {row['baseline']} -> {row['candidate']} ({row['delta']})")
    rates = summary["approval_rate"]
    print(f"  approval rate: {rates['baseline']:.1%} -> {rates['candidate']:.1%}")
    print(f"wrote {json_path} and {html_path}")
    return 0


def _ledger_store(url: str | None):  # type: ignore[no-untyped-def]
    """The ledger's store for URL (default: RECOVERY_LEDGER_URL), or None after printing why not."""
    from .ledger import LedgerUrlError
    from .ledger.store import Store, open_engine

    if not url:
        try:
            url = load_settings().ledger_url
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            return None
    if url == "off":
        print("the ledger is off (RECOVERY_LEDGER_URL=off): name a database with --url", file=sys.stderr)
        return None
    try:
        return Store(open_engine(url))
    except LedgerUrlError as exc:
        print(f"ledger URL: {exc}", file=sys.stderr)
        return None


def _export_ledger(url: str, out: Path, since_days: float | None, limit: int | None) -> int | None:
    from sqlalchemy.exc import SQLAlchemyError

    from .ledger.store import DAY_MS, now_ms

    store = _ledger_store(url or None)
    if store is None:
        return None
    since = now_ms() - int(since_days * DAY_MS) if since_days is not None else None
    count = 0
    try:
        with out.open("wb") as sink:
            for event in store.events(since, limit):
                sink.write(orjson.dumps(event) + b"\n")
                count += 1
    except SQLAlchemyError as exc:
        print(f"the ledger database did not answer: {str(getattr(exc, 'orig', exc)).strip()}", file=sys.stderr)
        return None
    return count


def cmd_ledger(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from .ledger import migrate

    store = _ledger_store(args.url)
    if store is None:
        return 2
    try:
        if args.ledger_command == "migrate":
            before = migrate.current(store.engine)
            after = migrate.upgrade(store.engine)
            print(f"ledger schema: {before or 'empty'} -> {after}")
        elif args.ledger_command == "prune":
            settings = load_settings()
            counts = store.prune(settings.ledger_retention_days, settings.ledger_idempotency_window_seconds * 1000)
            print(json.dumps({"deleted": counts}))
        elif args.ledger_command == "erase":
            from .logs import CustomerMask

            customer = CustomerMask("hash", load_settings().log_hash_salt)(args.customer_id)
            print(json.dumps({"customer": customer, "deleted": store.erase(customer or "")}))
    except SQLAlchemyError as exc:
        print(f"the ledger database did not answer: {str(getattr(exc, 'orig', exc)).strip()}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    finally:
        store.engine.dispose()
    return 0


def cmd_sample_events(args: argparse.Namespace) -> int:
    from .authoring.samples import generate

    out = sys.stdout.buffer if args.out == "-" else Path(args.out).open("wb")
    try:
        for event in generate(args.count, args.seed):
            out.write(orjson.dumps(event) + b"\n")
    finally:
        if out is not sys.stdout.buffer:
            out.close()
    return 0


def _write_or_print(document: dict, target: Path, write: bool) -> int:  # type: ignore[type-arg]
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if write:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    from .app import create_app
    from .settings import Settings

    app = create_app(Settings(rules_dir=SHIPPED_RULES))
    return _write_or_print(app.openapi(), ROOT / "openapi" / "openapi.json", args.write)


def cmd_schema(args: argparse.Namespace) -> int:
    from .engine.schema import json_schema

    return _write_or_print(json_schema(), SHIPPED_RULES / "schema.json", args.write)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="recovery", description="Service recovery decision engine")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.set_defaults(func=cmd_serve)

    decide = commands.add_parser("decide", help="decide one event and print the decision")
    decide.add_argument("event", help="event JSON file, or - for standard input")
    decide.add_argument("--rules", help="rules directory (default: RECOVERY_RULES_DIR or the shipped rules)")
    decide.add_argument("--explain", action="store_true", help="add why each rule did or did not match")
    decide.add_argument("--pretty", action="store_true", help="indent the JSON")
    decide.set_defaults(func=cmd_decide)

    rules = commands.add_parser("rules", help="tools for rules authors: check, test")
    rules_commands = rules.add_subparsers(dest="rules_command", required=True, metavar="TOOL")
    check = rules_commands.add_parser("check", help="validate and lint a rules directory")
    check.add_argument("directory", nargs="?", help="rules directory (default: the shipped rules)")
    check.add_argument("--format", choices=("text", "json", "sarif"), default="text",
                       help="text (default), json, or sarif (SARIF 2.1.0 for code-scanning annotations)")
    check.set_defaults(func=cmd_rules_check)
    test = rules_commands.add_parser("test", help="run case tables and invariants, report rule coverage")
    test.add_argument("directory", nargs="?", help="rules directory (default: the shipped rules)")
    test.add_argument("--min-coverage", type=float, metavar="PCT", help="fail below this rule coverage")
    test.add_argument("--examples", type=int, default=300, help="generated events per invariant (300)")
    test.add_argument("--no-invariants", action="store_true", help="run the case tables only")
    test.set_defaults(func=cmd_rules_test)

    simulate = commands.add_parser("simulate", help="replay events through two rulesets and compare")
    simulate.add_argument("events", nargs="?", help="JSONL file, one failure event per line")
    simulate.add_argument("--from-ledger", nargs="?", const="", metavar="URL",
                          help="replay the events recorded in the ledger (default URL: RECOVERY_LEDGER_URL)")
    simulate.add_argument("--since-days", type=float, help="with --from-ledger: only events of the last N days")
    simulate.add_argument("--limit", type=int, help="with --from-ledger: at most this many events (oldest first)")
    simulate.add_argument("--baseline", required=True, help="rules directory in use today")
    simulate.add_argument("--candidate", required=True, help="rules directory to try")
    simulate.add_argument("--out", default="simulation", help="directory for simulation.json and .html")
    simulate.add_argument("--workers", type=int, default=None, help="processes (default: one per CPU)")
    simulate.add_argument("--top", type=int, default=20, help="events listed per currency among top movers")
    simulate.add_argument("--ray", action="store_true",
                          help="replay on Ray Data (extra `ray`; RAY_ADDRESS names a cluster, else a local one "
                               "starts); the events file may be JSONL or .parquet (columns line, event)")
    simulate.set_defaults(func=cmd_simulate)

    ledger = commands.add_parser("ledger", help="the ledger's database: migrate, prune, erase")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True, metavar="TOOL")
    for name, text in (("migrate", "create or upgrade the ledger's tables"),
                       ("prune", "delete records past the retention period and expired idempotency keys"),
                       ("erase", "delete every record of one customer")):
        tool = ledger_commands.add_parser(name, help=text)
        tool.add_argument("--url", help="database URL (default: RECOVERY_LEDGER_URL)")
        if name == "erase":
            tool.add_argument("customer_id", help="the customer id as the CRM sends it")
        tool.set_defaults(func=cmd_ledger)

    mcp = commands.add_parser("mcp", help="serve the decision tools over MCP on stdio (for desktop AI clients)")
    mcp.add_argument("--rules", help="rules directory (default: RECOVERY_RULES_DIR or the shipped rules)")
    mcp.set_defaults(func=cmd_mcp)

    tools = commands.add_parser("tools", help="print the decision tools as strict function-calling schemas")
    tools.add_argument("--format", choices=["openai", "anthropic"], required=True,
                       help="openai: Chat Completions tools; anthropic: Messages API tools")
    tools.add_argument("--rules", help="rules directory whose facts the schemas name (default: the live one)")
    tools.set_defaults(func=cmd_tools)

    sample = commands.add_parser("sample-events", help="write a realistic sample of failure events (JSONL)")
    sample.add_argument("--count", type=int, default=3000)
    sample.add_argument("--seed", type=int, default=7)
    sample.add_argument("--out", default="-", help="file to write (default: standard output)")
    sample.set_defaults(func=cmd_sample_events)

    spec = commands.add_parser("openapi", help="print the OpenAPI document (--write updates openapi/)")
    spec.add_argument("--write", action="store_true")
    spec.set_defaults(func=cmd_openapi)

    schema = commands.add_parser("schema", help="print the rules-file JSON Schema (--write updates rules/)")
    schema.add_argument("--write", action="store_true")
    schema.set_defaults(func=cmd_schema)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
