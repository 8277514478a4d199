"""The `recovery` command: serve, decide, and the rules tools.

    recovery serve                      run the HTTP service (settings from RECOVERY_* variables)
    recovery decide EVENT.json          print the decision the HTTP route gives (- reads stdin)
    recovery openapi [--write]          print or rewrite openapi/openapi.json
    recovery schema [--write]           print or rewrite rules/schema.json

Exit status: 0 done; 1 the input was refused (the problem is printed); 2 usage or
configuration errors.
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
# evaluation (../shared/NOTES.md); workers read these when they start.
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
    import uvicorn

    uvicorn.run("service.app:create_app", factory=True, host=settings.host, port=settings.port,
                workers=settings.workers, http="httptools", loop="uvloop", access_log=False,
                log_level=settings.log_level, timeout_graceful_shutdown=30, server_header=False)
    return 0


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

    from .models import FailureEvent
    from .problems import from_validation
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
        event = FailureEvent.model_validate_json(raw)
        decision = decide(snapshot, event, explain=args.explain)
    except ValidationError as exc:
        print(orjson.dumps(from_validation(exc).body(), option=orjson.OPT_INDENT_2).decode(), file=sys.stderr)
        return 1
    except EventRejected as exc:
        print(json.dumps({"status": 422, "errors": exc.errors}, indent=2), file=sys.stderr)
        return 1
    option = orjson.OPT_INDENT_2 if args.pretty else 0
    sys.stdout.buffer.write(orjson.dumps(decision, option=option) + b"\n")
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
