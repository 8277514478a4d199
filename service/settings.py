"""Configuration: environment variables with the `RECOVERY_` prefix, validated at start.

A bad value stops the service with a message naming the variable, and so does a
`RECOVERY_*` variable that names no setting (`RECOVERY_API_KEY` for `RECOVERY_API_KEYS`
would otherwise leave /v1 open), with the setting it most resembles (difflib). `PORT`
is also honoured (platforms such as Cloud Run and Heroku set it) when `RECOVERY_PORT`
is not set. Every setting is listed in the README (tests/test_settings.py checks it).
"""

from __future__ import annotations

import difflib
import functools
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .auth import KeyStore
    from .ledger import LedgerConfig

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .webhooks.settings import WebhookSettings

SHIPPED_RULES = Path(__file__).resolve().parent.parent / "rules"
SHIPPED_SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "events.jsonl"
DEFAULT_LEDGER_URL = "sqlite:///var/ledger.sqlite3"
LEDGER_OFF = frozenset({"", "off", "none", "false", "0"})
ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def cors_list(value: str) -> list[str]:
    return [part.strip().rstrip("/") for part in value.split(",") if part.strip()]


class Settings(BaseSettings, WebhookSettings):
    model_config = SettingsConfigDict(env_prefix="RECOVERY_", extra="ignore", frozen=True)

    rules_dir: Path = SHIPPED_RULES
    """Directory of the rules files (a mounted ConfigMap in Kubernetes)."""
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535, validation_alias=AliasChoices("RECOVERY_PORT", "PORT"))
    workers: int = Field(default=1, ge=1, le=64)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    """Largest request body for POST /v1/decisions and the webhooks (413 above)."""
    batch_max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, le=256 * 1024 * 1024)
    """Largest request body for POST /v1/decisions:batch."""
    body_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    """A request body must arrive within this time (408 otherwise): slow-drip clients hold no worker."""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    reload_interval_seconds: float = Field(default=2.0, ge=0, le=3600)
    """How often the rules directory is checked for changes; 0 turns the watcher off."""
    reload_quiet_seconds: float = Field(default=5.0, ge=0, le=3600)
    """A plain rules directory must stay unchanged this long before a change loads (a ConfigMap's
    atomic `..data` swap loads at once)."""
    max_header_bytes: int = Field(default=32 * 1024, ge=1024, le=1024 * 1024)
    """Request line and headers of one request, in bytes (431 above)."""
    max_headers: int = Field(default=100, ge=8, le=1000)
    """Header lines of one request (431 above)."""
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    """A connection must deliver its request headers within this time (408 or closed)."""
    idle_timeout_seconds: float = Field(default=75.0, gt=0, le=3600)
    """A keep-alive connection without a request is closed after this time (above the usual
    60 s of proxies and load balancers, so they close first)."""
    max_connections: int = Field(default=1000, ge=16, le=1_000_000)
    """Open connections per worker; above it the longest-idle one is closed, or the new one gets 503."""
    forwarded_allow_ips: str = "127.0.0.1,::1"
    """Proxies whose X-Forwarded-For names the client (comma-separated addresses or `*`)."""
    auth_failures_per_minute: int = Field(default=30, ge=0, le=1_000_000)
    """Requests with a wrong API key per minute and client address before that address gets 429
    for every /v1 request (0 turns it off)."""
    api_keys: str = ""
    """Keys allowed to decide: comma-separated `name:key` entries (see service/auth.py)."""
    admin_keys: str = ""
    """Keys allowed to decide, simulate and reload the rules: `name:key` entries."""
    simulate_keys: str = ""
    """Keys allowed to decide and to run simulations (POST /v1/simulations): `name:key` entries."""
    ai_agent_keys: str = ""
    """Keys for AI support agents (`name:key,...`): the decide scope, and the ruleset's `ai_agent` profile."""
    mcp_api_key: str = ""
    """`recovery mcp` (stdio) only: the key its tools decide with when keys are configured."""
    api_keys_file: Path | None = None
    """A file (a mounted Secret) with more `name:key` entries for API_KEYS."""
    admin_keys_file: Path | None = None
    """A file with more `name:key` entries for ADMIN_KEYS."""
    rate_limit_per_minute: int = Field(default=0, ge=0, le=10_000_000)
    """Requests per minute per key and worker process on /v1/* (429 above); 0 turns it off."""
    simulation_dirs: str = ""
    """Rules directories the console may compare against: comma-separated `name=/path` entries."""
    simulation_events: Path | None = SHIPPED_SAMPLE if SHIPPED_SAMPLE.is_file() else None
    """JSONL events a simulation replays when the request brings none (the shipped sample)."""
    simulation_cpu_seconds: float = Field(default=30.0, gt=0, le=3600)
    """CPU a simulation may use (it runs in a process of its own); above it the answer is 422."""
    simulation_max_evaluations: int = Field(default=10_000_000, ge=1000, le=10_000_000_000)
    """Events x rules (both rulesets) one simulation may evaluate; above it the request is refused."""
    shutdown_drain_seconds: float = Field(default=1.0, ge=0, le=60)
    """On SIGTERM, keep serving this long (readiness 503) before closing idle connections."""
    log_customer_fields: Literal["hash", "omit", "plain"] = "hash"
    """How decision log lines carry customer and order ids: hashed, left out, or as sent."""
    log_hash_salt: str = ""
    """A secret salt for hashed ids, so they cannot be recomputed from guessed ids."""
    ledger_url: str = DEFAULT_LEDGER_URL
    """The ledger's database: `sqlite:///path` (the embedded default), `postgresql://...`, or `off`."""
    ledger_spool_dir: Path = Path("var/spool")
    """Where records wait until the database has them (shared by the workers of one host)."""
    ledger_spool_max_bytes: int = Field(default=256 * 1024 * 1024, ge=1024 * 1024, le=1024 ** 4)
    """The spool's bound; past it RECOVERY_LEDGER_ON_FULL applies."""
    ledger_on_full: Literal["shed", "refuse"] = "shed"
    """Spool full: `shed` the record (counted in recovery_ledger_records_total) or `refuse` decisions (503)."""
    ledger_idempotency_window_seconds: int = Field(default=86_400, ge=0, le=366 * 86_400)
    """How long an Idempotency-Key or an event_id returns the first decision; 0 turns idempotency off."""
    ledger_retention_days: int = Field(default=365, ge=0, le=36_500)
    """Records older than this are deleted (hourly); 0 keeps them."""
    ledger_history: bool = False
    """Fill prior_recoveries_90d and recurring from the ledger when the caller leaves them out."""
    ledger_record_descriptions: bool = False
    """Keep failure descriptions in decision records (free text may hold personal data)."""
    cors_origins: str = ""
    """Browser origins allowed to call the API cross-origin (a CRM widget): comma-separated
    `scheme://host[:port]` entries, or `*`; empty turns CORS off."""
    bench_routes: bool = False
    """Mount POST /bench/noop, the benchmark's baseline route (bench/README.md); off in production."""

    @model_validator(mode="after")
    def _keys(self) -> "Settings":
        from .auth import KeyConfigError

        try:
            self.key_store()
        except (KeyConfigError, OSError) as exc:
            raise ValueError(str(exc)) from None
        return self

    @field_validator("simulation_dirs")
    @classmethod
    def _simulation_dirs(cls, value: str) -> str:
        for entry in filter(None, (part.strip() for part in value.split(","))):
            name, sep, path = entry.partition("=")
            if not sep or not name.strip() or not Path(path.strip()).is_dir():
                raise ValueError(f"{entry!r} is not `name=/existing/directory`")
        return value

    @field_validator("cors_origins")
    @classmethod
    def _cors_origins(cls, value: str) -> str:
        for origin in cors_list(value):
            if origin != "*" and not ORIGIN.match(origin):
                raise ValueError(f"{origin!r} is not an origin like `https://crm.example.com` (scheme, host, "
                                 "optional port; no path)")
        return value

    def cors_origin_list(self) -> list[str]:
        return cors_list(self.cors_origins)

    @field_validator("ledger_url")
    @classmethod
    def _ledger_url(cls, value: str) -> str:
        if value.strip().lower() in LEDGER_OFF:
            return "off"
        from .ledger import LedgerUrlError, parse_url

        try:
            parse_url(value)
        except LedgerUrlError as exc:
            raise ValueError(str(exc)) from None
        return value

    def ledger_config(self) -> "LedgerConfig | None":
        """The ledger's settings, or None when it is off."""
        if self.ledger_url == "off":
            return None
        from .ledger import LedgerConfig

        return LedgerConfig(url=self.ledger_url, spool_dir=self.ledger_spool_dir,
                            spool_max_bytes=self.ledger_spool_max_bytes, on_full=self.ledger_on_full,
                            idempotency_window_seconds=self.ledger_idempotency_window_seconds,
                            retention_days=self.ledger_retention_days, history=self.ledger_history,
                            record_descriptions=self.ledger_record_descriptions, hash_salt=self.log_hash_salt)

    def simulation_directories(self) -> dict[str, Path]:
        pairs = (entry.partition("=") for entry in self.simulation_dirs.split(",") if entry.strip())
        return {name.strip(): Path(path.strip()) for name, _, path in pairs}

    def key_store(self) -> "KeyStore":
        from .auth import KeyStore

        return KeyStore.from_settings(self.api_keys, self.admin_keys, self.api_keys_file, self.admin_keys_file,
                                      self.simulate_keys, self.ai_agent_keys)

    @field_validator("rules_dir")
    @classmethod
    def _exists(cls, value: Path) -> Path:
        if not value.is_dir():
            raise ValueError(f"{value} is not a directory")
        return value


class ConfigError(Exception):
    """The environment holds a bad setting; the message names each variable."""


PREFIX = "RECOVERY_"
# RECOVERY_* variables that are not settings: the CLI's own re-exec guard, and the knobs the
# repository's test and benchmark harness reads (a server they start inherits them).
NOT_SETTINGS = frozenset({
    "RECOVERY_NO_REEXEC",
    "RECOVERY_SCHEMATHESIS_EXAMPLES", "RECOVERY_PROPERTY_EXAMPLES", "RECOVERY_HOSTILE_EXAMPLES",
    "RECOVERY_WEBHOOK_FUZZ_EXAMPLES", "RECOVERY_LOAD_SECONDS", "RECOVERY_CROSS_ROUTE_EVENTS", "RECOVERY_IMAGE",
})


def variables() -> list[str]:
    """Every RECOVERY_* variable that is a setting, as the environment spells it."""
    names = []
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names += [str(choice) for choice in alias.choices if str(choice).startswith(PREFIX)]
        else:
            names.append(PREFIX + name.upper())
    return sorted(names)


def unknown_variables(environ: dict[str, str] | os._Environ[str]) -> list[str]:
    """One line per RECOVERY_* variable in `environ` that names no setting, with the nearest one."""
    known = variables()
    lines = []
    for name in sorted(environ):
        if not name.upper().startswith(PREFIX) or name.upper() in known or name.upper() in NOT_SETTINGS:
            continue
        # Compared without the prefix, which every name shares and would make anything look close.
        close = difflib.get_close_matches(name.upper().removeprefix(PREFIX), [k.removeprefix(PREFIX) for k in known],
                                          n=1, cutoff=0.75)
        hint = f"did you mean {PREFIX}{close[0]}?" if close else "see the README's Configuration table"
        lines.append(f"{name}: not a setting; {hint}")
    return lines


def load_settings() -> Settings:
    unknown = unknown_variables(os.environ)
    if unknown:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(unknown))
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_url=False):
            name = "RECOVERY_" + "_".join(str(part) for part in error["loc"]).upper() if error["loc"] \
                else "RECOVERY_API_KEYS / RECOVERY_ADMIN_KEYS"
            lines.append(f"{name}: {str(error['msg']).removeprefix('Value error, ')}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from exc


@functools.cache
def get_settings() -> Settings:
    return load_settings()
