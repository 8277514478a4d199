"""Structured logs: one JSON object per line on stdout.

Every record has `ts` (UTC, RFC 3339 with milliseconds), `level`, `logger` and
`msg`; fields passed as `extra={...}` are added as they are. The request
middleware writes one `request` line per HTTP request; the decision routes write
one `decision` line per decision, in which customer fields are hashed, left out
or written plainly according to RECOVERY_LOG_CUSTOMER_FIELDS. Free text from the
caller (failure descriptions) and credentials are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import sys
import time
from contextvars import ContextVar
from typing import Any, Literal

import orjson

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

CustomerFields = Literal["hash", "omit", "plain"]

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        out: dict[str, Any] = {"ts": f"{stamp}.{int(record.msecs):03d}Z", "level": record.levelname.lower(),
                               "logger": record.name, "msg": record.getMessage()}
        current = request_id.get()
        if current is not None:
            out["request_id"] = current
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


def uvicorn_config(level: str) -> dict[str, Any]:
    """A logging dictConfig for uvicorn.run(): every logger writes JSON lines to stdout."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stdout": handler},
        "root": {"handlers": ["stdout"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level.upper(), "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level.upper(), "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def configure(level: str) -> None:
    """For processes not started by uvicorn (tests, scripts): JSON lines on stdout."""
    root = logging.getLogger()
    if not any(isinstance(handler.formatter, JsonFormatter) for handler in root.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level.upper())


class CustomerMask:
    """Applies RECOVERY_LOG_CUSTOMER_FIELDS to a customer identifier."""

    def __init__(self, mode: CustomerFields, salt: str = ""):
        self.mode = mode
        self.salt = salt.encode()

    def __call__(self, value: str | None) -> str | None:
        if value is None or self.mode == "omit":
            return None
        if self.mode == "plain":
            return value
        digest = hmac.new(self.salt, value.encode(), hashlib.sha256).hexdigest() if self.salt \
            else hashlib.sha256(value.encode()).hexdigest()
        return "h:" + digest[:16]


_LEVEL_NAMES = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warning", logging.ERROR: "error"}


class Lines:
    """The hot path's log lines (one per request, one per decision): the same JSON shape as
    `JsonFormatter`, written with one os.write per line. That is several times cheaper than
    the logging module, and a line under PIPE_BUF bytes never interleaves with another
    worker's line on the shared stdout pipe."""

    def __init__(self, logger: str, fd: int = 1):
        self.logger = logger
        self._logger = logging.getLogger(logger)
        self.fd = fd
        self._second = -1
        self._stamp = ""

    def write(self, level: int, msg: str, fields: dict[str, Any]) -> None:
        if not self._logger.isEnabledFor(level):
            return
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        head: dict[str, Any] = {"ts": f"{self._stamp}.{int((now - second) * 1000):03d}Z",
                                "level": _LEVEL_NAMES[level], "logger": self.logger, "msg": msg}
        current = request_id.get()
        if current is not None:
            head["request_id"] = current
        head.update(fields)
        try:
            os.write(self.fd, orjson.dumps(head, default=str) + b"\n")
        except OSError:
            pass  # a closed stdout must not fail a request


decision_lines = Lines("service.decision")


def log_decision(decision: dict[str, Any], *, customer_id: str | None, order_id: str | None,
                 root_cause: str, failure_type: str, severity: int, tier: str, mask: CustomerMask,
                 source: str) -> None:
    mix = decision["mix"]
    fields: dict[str, Any] = {
        "decision_id": decision["decision_id"],
        "event_id": decision["event_id"],
        "source": source,
        "ruleset_digest": decision["ruleset"]["digest"],
        "failure_type": failure_type,
        "severity": severity,
        "root_cause": root_cause,
        "tier": tier,
        "refund": mix["refund"],
        "credit": None if mix["credit"] is None else {"amount": mix["credit"]["amount"],
                                                      "currency": mix["credit"]["currency"]},
        "discount_percent": None if mix["discount"] is None else mix["discount"]["percent"],
        "replacement": None if mix.get("replacement") is None else mix["replacement"]["kind"],
        "apology": f"{mix['apology']['level']}/{mix['apology']['from']}",
        "estimated_cost": decision["estimated_cost"],
        "approval": decision["approval"]["level"],
        "rules_fired": [rule["id"] for rule in decision["rules_fired"]],
    }
    if mask.mode != "omit":
        fields["customer_id"] = mask(customer_id)
        fields["order_id"] = mask(order_id)
    decision_lines.write(logging.INFO, "decision", fields)
