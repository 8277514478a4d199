"""Who is asking: the caller's key picks the profile a decision is made under.

A `Caller` is built at the edge (the HTTP route's principal, the MCP request's principal,
the stdio server's key) and handed down to `decide()`; recovery never looks at keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..auth import Principal

DEFAULT = "default"
#: The scope (and profile) of keys in RECOVERY_AI_AGENT_KEYS.
AI_AGENT = "ai_agent"


@dataclass(frozen=True)
class Caller:
    key_name: str | None = None
    profile: str = DEFAULT

    def decide_options(self) -> dict[str, Any]:
        return {} if self.profile == DEFAULT else {"profile": self.profile}

    @classmethod
    def of(cls, principal: Principal | None) -> "Caller":
        if principal is None:
            return cls()
        return cls(principal.name, AI_AGENT if AI_AGENT in principal.scopes else DEFAULT)
