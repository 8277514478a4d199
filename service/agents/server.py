"""The MCP server over the decision tools: Streamable HTTP at /mcp, and stdio (`recovery mcp`).

Built on the official SDK's low-level `Server`, so the tool list is exactly `tools.TOOLS`:
each tool's input and output schemas are its pydantic models' JSON Schemas (the same models
the OpenAPI document is generated from), and each is annotated read-only and idempotent.

A null argument is read as one left out (strict function-calling models send null for what
they leave out; `service.agents.functions`). Errors are answered the way MCP asks, as tool results with `isError: true` the model can
read and act on, never as a crash: arguments that do not validate (the pydantic errors,
with their locations), an event the ruleset cannot decide (the 422 problem's errors), no
live ruleset yet, or the engine failing. An unknown tool name is a protocol error.

Over HTTP the endpoint is stateless with JSON responses: no session outlives a request, so
any worker of any replica can answer any call, like the REST API. The API-key middleware in
front of it (`service.api.security`) asks for the same keys and the decide scope; the
principal it found is read here to pick the caller's profile.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

import mcp_types as types
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from pydantic import ValidationError

from .. import __version__
from ..auth import Principal
from ..engine.registry import Snapshot
from ..engine.runtime import EngineError
from ..problems import validation_errors
from ..recovery.normalize import EventRejected
from .functions import prune_nulls
from .profiles import Caller
from .schemas import input_schema, output_schema
from .tools import TOOLS, Tool

log = logging.getLogger("service.mcp")

INSTRUCTIONS = (
    "Service recovery policy. Before you offer a customer anything for a service failure, call "
    "recommend_recovery (what to offer, and what to say) or check_offer (whether what you mean to offer is "
    "allowed). Offer only what check_offer allows; when it says needs_approval, hand the case to a person. "
    "Call describe_policy to learn what to ask the customer first.")


def tool_list() -> list[types.Tool]:
    return [types.Tool(name=tool.name, title=tool.title, description=tool.description,
                       input_schema=input_schema(tool), output_schema=output_schema(tool),
                       annotations=types.ToolAnnotations(title=tool.title, read_only_hint=tool.read_only,
                                                         destructive_hint=False, idempotent_hint=tool.idempotent,
                                                         open_world_hint=False))
            for tool in TOOLS.values()]


def _error(text: str, **structured: Any) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)


def _invalid(errors: list[dict[str, Any]]) -> types.CallToolResult:
    lines = [f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in errors]
    return _error("The arguments are not valid; fix these and call again:\n" + "\n".join(lines))


def call(tool: Tool, snapshot: Snapshot | None, arguments: dict[str, Any] | None, caller: Caller) \
        -> types.CallToolResult:
    """One tool call, every failure answered as a tool error."""
    try:
        args = tool.arguments.model_validate(prune_nulls(arguments or {}))
    except ValidationError as exc:
        return _invalid(validation_errors(exc.errors(include_url=False)))
    if snapshot is None:
        return _error("No valid ruleset is live yet; retry in a few seconds.")
    try:
        structured, text = tool.run(snapshot, args, caller)
    except EventRejected as exc:
        return _invalid(exc.errors)
    except EngineError:
        log.exception("the rules engine failed on an MCP call to %s", tool.name)
        return _error("The rules engine could not evaluate this event; retry.")
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], structured_content=structured)


def build(current: Callable[[], Snapshot | None], caller_of: Callable[[ServerRequestContext[Any]], Caller]) \
        -> Server[Any]:
    """The MCP server; `current` gives the live snapshot, `caller_of` who is calling."""
    listed = types.ListToolsResult(tools=tool_list())

    async def list_tools(ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None) \
            -> types.ListToolsResult:
        return listed

    async def call_tool(ctx: ServerRequestContext[Any], params: types.CallToolRequestParams) \
            -> types.CallToolResult:
        tool = TOOLS.get(params.name)
        if tool is None:
            return _error(f"There is no tool named {params.name!r}; the tools are {', '.join(TOOLS)}.")
        return call(tool, current(), params.arguments, caller_of(ctx))

    return Server("service-recovery", version=__version__, title="Service recovery decision engine",
                  instructions=INSTRUCTIONS, on_list_tools=list_tools, on_call_tool=call_tool)


def http_caller(ctx: ServerRequestContext[Any]) -> Caller:
    """The principal the API-key middleware put on the HTTP request (None when keys are off)."""
    request = ctx.request
    principal = None
    if request is not None:
        principal = request.scope.get("state", {}).get("principal")
    return Caller.of(principal if isinstance(principal, Principal) else None)


def http_app(current: Callable[[], Snapshot | None], max_body_bytes: int) \
        -> tuple[StreamableHTTPSessionManager, StreamableHTTPASGIApp]:
    """The session manager (its `run()` must be entered while it serves) and the ASGI app of the
    Streamable HTTP endpoint; `service.agents.endpoint` mounts it at /mcp."""
    manager = StreamableHTTPSessionManager(build(current, http_caller), json_response=True, stateless=True,
                                           max_request_body_size=max_body_bytes)
    return manager, StreamableHTTPASGIApp(manager)


class StdioRefused(Exception):
    """`recovery mcp` cannot start; the message says why (configuration, never the key)."""


def stdio_caller(keys: Any, key: str | None) -> Caller:
    """The stdio server has no HTTP request: with keys configured, RECOVERY_MCP_API_KEY must hold one
    with the decide scope (a desktop client's config passes it in the server's environment)."""
    if not keys.enabled:
        return Caller()
    if not key:
        raise StdioRefused("API keys are configured: set RECOVERY_MCP_API_KEY to a key with the decide scope")
    principal = keys.lookup(key)
    if principal is None:
        raise StdioRefused("RECOVERY_MCP_API_KEY is not a valid API key")
    if "decide" not in principal.scopes:
        raise StdioRefused(f"the key named {principal.name!r} does not have the decide scope")
    return Caller.of(principal)


async def serve_stdio(registry: Any, caller: Caller, reload_interval: float, reload_quiet: float) -> None:
    """Serve MCP on standard input and output until the client closes them; the rules are watched
    and reloaded as the HTTP service does (a bad change keeps the old ruleset serving)."""
    import asyncio

    from mcp.server.stdio import stdio_server

    from ..watcher import watch

    server = build(lambda: registry.current, lambda ctx: caller)
    watcher = asyncio.create_task(watch(registry, reload_interval, reload_quiet)) if reload_interval > 0 else None
    try:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())
    finally:
        if watcher is not None:
            watcher.cancel()
