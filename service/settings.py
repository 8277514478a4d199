"""Configuration: environment variables with the `RECOVERY_` prefix, validated at start.

A bad value stops the service with a message naming the variable. `PORT` is also
honoured (platforms such as Cloud Run and Heroku set it) when `RECOVERY_PORT` is
not set. Every setting is listed in the README.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SHIPPED_RULES = Path(__file__).resolve().parent.parent / "rules"


class Settings(BaseSettings):
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

    @field_validator("rules_dir")
    @classmethod
    def _exists(cls, value: Path) -> Path:
        if not value.is_dir():
            raise ValueError(f"{value} is not a directory")
        return value


class ConfigError(Exception):
    """The environment holds a bad setting; the message names each variable."""


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_url=False):
            name = "RECOVERY_" + "_".join(str(part) for part in error["loc"]).upper()
            lines.append(f"{name}: {error['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from exc


@functools.cache
def get_settings() -> Settings:
    return load_settings()
