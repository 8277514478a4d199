"""Write-back: the recommendation posted onto the ticket, through each vendor's REST API.

After a delivery is decided, the agent note goes onto the ticket as an internal
note no customer sees, and (optionally) the ticket gets tags and a field holding
the estimated cost:

    zendesk     PUT  /api/v2/tickets/{id}.json            comment {body, public: false}, additional_tags,
                                                          custom_fields; basic auth {email}/token:{token}
    freshdesk   POST /api/v2/tickets/{id}/notes           {body (HTML), private: true}; tags and the cost
                                                          field by PUT /api/v2/tickets/{id}; basic auth {key}:X
    jira        POST /rest/servicedeskapi/request/{key}/comment   {body, public: false}; labels and the cost
                                                          field by PUT /rest/api/3/issue/{key}; basic auth
    servicenow  PATCH /api/now/table/{table}/{sys_id}     {work_notes, <cost field>}; basic auth
    salesforce  POST /services/data/vNN.0/sobjects/CaseComment   {ParentId, CommentBody, IsPublished: false};
                                                          the cost field by PATCH sobjects/Case/{id}; an
                                                          OAuth 2.0 client-credentials token
    intercom    POST /conversations/{id}/reply            {message_type: note, type: admin, admin_id, body};
                                                          the cost attribute by PUT /conversations/{id};
                                                          Bearer token and Intercom-Version

**Once per decision.** The note ends with the decision id. Before posting, the
ticket's existing notes are read (Zendesk and Freshdesk comments, JSM comments,
ServiceNow `sys_journal_field` work notes, Salesforce CaseComments, Intercom
conversation parts); if one holds the decision id the note is not posted again.
Tags and the cost field are set every time (setting them twice changes nothing),
so a delivery that failed after the note landed finishes the job when redelivered.
Within one worker, write-backs to the same ticket run one at a time.

**Failures make the sender redeliver.** A vendor answer other than the documented
success, a timeout or a connection error raises `WritebackFailed`; the route
answers 503 with Retry-After, which every sender retries. A 429 or 503 whose
Retry-After (or Intercom's X-RateLimit-Reset) fits the delivery's time budget
(RECOVERY_WEBHOOK_WRITEBACK_TIMEOUT_SECONDS) is waited out and retried; a longer
one is passed on to the sender as the answer's Retry-After. No URL from a
delivery is ever called: the base URL is the configured one, ticket ids are
checked against each vendor's id format and quoted into the path, and pagination
links are followed only on the configured origin.

Each write-back counts in `recovery_webhook_writebacks_total{system,result}` and
writes one `writeback` log line (system, ticket, decision id, result, calls, ms).
httpx is imported on the first write-back, so a service without write-back starts
its workers without it.
"""

from __future__ import annotations

import asyncio
import base64
import html
import logging
import re
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlsplit

from .. import __version__, metrics
from .settings import WebhookSettings

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("service.webhooks")

Result = Literal["posted", "present", "failed"]
RESULTS: tuple[Result, ...] = ("posted", "present", "failed")
TAG_DECIDED = "recovery_decided"
TAG_APPROVAL = "recovery_needs_approval"
DEFAULT_RETRY_AFTER = 30
"""Seconds a sender is told to wait when the vendor failed without saying how long."""
MAX_RETRY_AFTER = 3600
MAX_PAGES = 10
"""Pages of existing notes read before posting (100 notes a page)."""
MAX_WAITS = 2
SALESFORCE_COMMENT_CHARS = 4000


class WritebackFailed(Exception):
    """The vendor did not take the note; `retry_after` is what the sender should wait, in seconds."""

    def __init__(self, system: str, detail: str, retry_after: int = DEFAULT_RETRY_AFTER,
                 vendor_status: int | None = None):
        self.system = system
        self.detail = detail
        self.retry_after = max(1, min(retry_after, MAX_RETRY_AFTER))
        self.vendor_status = vendor_status
        super().__init__(detail)


class RecordInvalid(ValueError):
    """The ticket reference the mapping produced is not an id the vendor's API takes."""


@dataclass(frozen=True)
class Ticket:
    """What to write onto one ticket."""

    system: str
    record: dict[str, str]
    """{"id": ...} and, for ServiceNow, {"table": ...} (mapping.Mapped.record)."""
    decision_id: str
    note: str
    tags: tuple[str, ...]
    cost: str | None
    """The estimated cost as text ("53.00 EUR"), for the configured cost field."""


@dataclass(frozen=True)
class Outcome:
    result: Result
    calls: int
    tags: tuple[str, ...] = ()
    fields: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.result, "note": "created" if self.result == "posted" else "present"}
        if self.tags:
            out["tags"] = list(self.tags)
        if self.fields:
            out["fields"] = self.fields
        return out


OFF = {"status": "off"}


def tags_for(decision: dict[str, Any]) -> tuple[str, ...]:
    return (TAG_DECIDED, TAG_APPROVAL) if decision["approval"]["required"] else (TAG_DECIDED,)


def cost_text(decision: dict[str, Any]) -> str | None:
    cost = decision.get("estimated_cost")
    return f"{cost['amount']} {cost['currency']}" if cost else None


def as_html(note: str) -> str:
    """The note for vendors whose notes are HTML (Freshdesk, Intercom): escaped, one paragraph a line."""
    return "".join(f"<p>{html.escape(line)}</p>" for line in note.split("\n"))


def _fit(note: str, limit: int) -> str:
    """At most `limit` characters, keeping the last line (the decision id)."""
    if len(note) <= limit:
        return note
    head, _, last = note.rpartition("\n")
    return head[: max(0, limit - len(last) - 5)] + "\n...\n" + last


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is not None:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None
    reset = response.headers.get("x-ratelimit-reset")  # Intercom: the epoch second the window resets
    if reset is not None and reset.strip().isdigit():
        return max(0.0, int(reset) - time.time())
    return None


class _Budget:
    def __init__(self, seconds: float):
        self.deadline = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


class _Api:
    """One vendor's HTTP calls on the delivery's budget: timeouts, Retry-After, and failures as WritebackFailed."""

    def __init__(self, system: str, client: httpx.AsyncClient, base: str, headers: dict[str, str],
                 budget: _Budget):
        self.system = system
        self.client = client
        self.base = base
        self.origin = urlsplit(base)[:2]
        self.headers = headers
        self.budget = budget
        self.calls = 0

    def same_origin(self, url: str) -> bool:
        return urlsplit(url)[:2] == self.origin

    async def call(self, method: str, url: str, expect: tuple[int, ...], **kwargs: Any) -> httpx.Response:
        import httpx

        target = url if url.startswith(("http://", "https://")) else self.base + url
        shown = urlsplit(target).path
        if not self.same_origin(target):   # a pagination link elsewhere is never followed
            raise WritebackFailed(self.system, f"{method} {shown}: refused, not on the configured API URL")
        waits = 0
        while True:
            remaining = self.budget.remaining()
            if remaining < 0.05:
                raise WritebackFailed(self.system, f"{method} {shown}: no time left in the write-back budget "
                                      "(RECOVERY_WEBHOOK_WRITEBACK_TIMEOUT_SECONDS)")
            self.calls += 1
            try:
                response = await self.client.request(method, target, headers=self.headers,
                                                     timeout=httpx.Timeout(remaining), **kwargs)
            except httpx.TimeoutException:
                raise WritebackFailed(self.system, f"{method} {shown} timed out") from None
            except httpx.HTTPError as exc:
                raise WritebackFailed(self.system, f"{method} {shown} failed: {type(exc).__name__}") from None
            if response.status_code in expect:
                return response
            wait = _retry_after(response)
            if response.status_code in (429, 503) and wait is not None and waits < MAX_WAITS \
                    and wait + 0.5 < self.budget.remaining():
                waits += 1
                await asyncio.sleep(wait)
                continue
            retry = int(wait + 0.999) if wait is not None else DEFAULT_RETRY_AFTER
            raise WritebackFailed(self.system, f"{method} {shown} answered {response.status_code}"
                                  f"{_why(response)}", retry, response.status_code)


def _why(response: httpx.Response) -> str:
    text = response.text[:200].strip().replace("\n", " ")
    return f": {text}" if text else ""


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _holds(text: Any, decision_id: str) -> bool:
    return isinstance(text, str) and decision_id in text


# ---------------------------------------------------------------------------------- vendors

class _Vendor:
    """The calls one vendor needs: is the note there, post it, set tags and the cost field."""

    ID = re.compile(r"^\d{1,20}$")
    ID_DESCRIPTION = "a numeric ticket id"
    tags_supported = True

    def __init__(self, settings: WebhookSettings, api: _Api):
        self.settings = settings
        self.api = api

    @property
    def cost_field(self) -> str | None:
        value = getattr(self.settings, f"webhook_{self.api.system}_cost_field")
        return value if isinstance(value, str) else None

    @classmethod
    def check(cls, record: dict[str, str]) -> None:
        if not cls.ID.match(record.get("id", "")):
            raise RecordInvalid(f"`{record.get('id', '')[:64]}` is not {cls.ID_DESCRIPTION}")

    def path_id(self, ticket: Ticket) -> str:
        return quote(ticket.record["id"], safe="")

    def costs(self, cost: str | None) -> dict[str, str]:
        """{cost field: cost} when a cost field is configured and the decision has a cost."""
        return {self.cost_field: cost} if cost is not None and self.cost_field else {}

    async def present(self, ticket: Ticket) -> bool:
        raise NotImplementedError

    async def post(self, ticket: Ticket, tags: tuple[str, ...], cost: str | None) -> None:
        raise NotImplementedError

    async def mark(self, ticket: Ticket, tags: tuple[str, ...], cost: str | None) -> None:
        raise NotImplementedError

    posts_marks = False
    """Whether `post` also sets the tags and the cost field (one request)."""


class Zendesk(_Vendor):
    posts_marks = True

    @staticmethod
    def headers(settings: WebhookSettings) -> dict[str, str]:
        token = settings.webhook_zendesk_api_token
        return {"Authorization": _basic(f"{settings.webhook_zendesk_api_email}/token",
                                        token.get_secret_value() if token else "")}

    async def present(self, ticket: Ticket) -> bool:
        url = f"/api/v2/tickets/{self.path_id(ticket)}/comments.json"
        params: dict[str, Any] | None = {"page[size]": 100, "sort": "-created_at"}
        for _ in range(MAX_PAGES):
            page = _json(await self.api.call("GET", url, (200,), params=params)) or {}
            if any(_holds(comment.get(key), ticket.decision_id) for comment in page.get("comments") or ()
                   if isinstance(comment, dict) for key in ("body", "plain_body", "html_body")):
                return True
            following = (page.get("links") or {}).get("next")
            if not (page.get("meta") or {}).get("has_more") or not isinstance(following, str) \
                    or not self.api.same_origin(following):
                return False
            url, params = following, None
        return False

    def _update(self, tags: tuple[str, ...], cost: str | None) -> dict[str, Any]:
        update: dict[str, Any] = {}
        if tags:
            update["additional_tags"] = list(tags)
        for name, value in self.costs(cost).items():
            update["custom_fields"] = [{"id": int(name) if name.isdigit() else name, "value": value}]
        return update

    async def post(self, ticket: Ticket, tags: tuple[str, ...], cost: str | None) -> None:
        body = {"ticket": {"comment": {"body": ticket.note, "public": False}, **self._update(tags, cost)}}
        await self.api.call("PUT", f"/api/v2/tickets/{self.path_id(ticket)}.json", (200,), json=body)

    async def mark(self, ticket: Ticket, tags: tuple[str, ...], cost: str | None) -> None:
        update = self._update(tags, cost)
        if update:
            await self.api.call("PUT", f"/api/v2/tickets/{self.path_id(ticket)}.json", (200,),
                                json={"ticket": update})


class Freshdesk(_Vendor):
    @staticmethod
    def headers(settings: WebhookSettings) -> dict[str, str]:
        key = settings.webhook_freshdesk_api_key
        return {"Authorization": _basic(key.get_secret_value() if key else "", "X")}

    async def present(self, ticket: Ticket) -> bool:
        for page in range(1, MAX_PAGES + 1):
            items = _json(await self.api.call("GET", f"/api/v2/tickets/{self.path_id(ticket)}/conversations",
                                              (200,), params={"per_page": 100, "page": page}))
            items = items if isinstance(items, list) else []
            if any(isinstance(item, dict) and (_holds(item.get("body_text"), ticket.decision_id)
                                               or _holds(item.get("body"), ticket.decision_id)) for item in items):
                return True
            if len(items) < 100:
                return False
        return False

    async def post(self, ticket: Ticket, tags: tuple[str, ...], cost: str | None) -> None:
        await self.api.call("POST", f"/api/v2/tickets/{self.path_id(ticket)}/notes", (201,),
                            json={"body": as_html(ticket.note), "private": True})

    async def mark(self, ticket: Ticket, tags: tuple[str, ...], cost: str | None) -> None:
        update: dict[str, Any] = {}
        if tags:
            # Freshdesk's update replaces the tag list: add ours to the ticket's own.
            current = _json(await self.api.call("GET", f"/api/v2/tickets/{self.path_id(ticket)}", (200,))) or {}
            existing = [tag for tag in current.get("tags") or () if isinstance(tag, str)]
            if not set(tags) <= set(existing):
                update["tags"] = existing + [tag for tag in tags if tag not in existing]
        if self.costs(cost):
            update["custom_fields"] = self.costs(cost)
        if update:
            await self.api.call("PUT", f"/api/v2/tickets/{self.path_id(ticket)}", (200,), json=update)


class Jira(_Vendor):
    ID = re.compile(r"^(?:[A-Z][A-Z0-9_]{0,49}-\d{1,12}|\d{1,20})$")
    ID_DESCRIPTION = "an issue key such as CS-42 or a numeric issue id"

    @staticmethod
    def headers(settings: WebhookSettings) -> dict[str, str]:
        token = settings.webhook_jira_api_token
        return {"Authorization": _basic(settings.webhook_jira_api_email or "",
                                        token.get_secret_value() if token else ""),
                "Accept": "application/json"}

    async def present(self, ticket: Ticket) -> bool:
        start = 0
        for _ in range(MAX_PAGES):
            page = _json(await self.api.call(
                "GET", f"/rest/servicedeskapi/request/{self.path_id(ticket)}/comment", (200,),
                params={"start": start, "limit": 100})) or {}
            values = [item for item in page.get("values") or () if isinstance(item, dict)]
            if any(_holds(item.get("body"), ticket.decision_id) for item in values):
                return True
            if page.get("isLastPage", True) or not values:
                return False
            start += len(values)
        return False

    async def post(self, ticket: Ticket, tags: tuple[str, ...], cost: str | None) -> None:
        await self.api.call("POST", f"/rest/servicedeskapi/request/{self.path_id(ticket)}/comment", (201,),
                            json={"body": ticket.note, "public": False})

    async def mark(self, ticket: Ticket, tags: tuple[str, ...], cost: str | None) -> None:
        update: dict[str, Any] = {}
        if tags:
            update["update"] = {"labels": [{"add": tag} for tag in tags]}
        if self.costs(cost):
            update["fields"] = self.costs(cost)
        if update:
            await self.api.call("PUT", f"/rest/api/3/issue/{self.path_id(ticket)}", (204,), json=update)


class ServiceNow(_Vendor):
    ID = re.compile(r"^[0-9a-f]{32}$")
    ID_DESCRIPTION = "a sys_id (32 hexadecimal characters)"
    TABLE = re.compile(r"^[a-z][a-z0-9_]{0,79}$")
    tags_supported = False
    posts_marks = True

    @staticmethod
    def headers(settings: WebhookSettings) -> dict[str, str]:
        password = settings.webhook_servicenow_api_password
        return {"Authorization": _basic(settings.webhook_servicenow_api_username or "",
                                        password.get_secret_value() if password else ""),
                "Accept": "application/json"}

    @classmethod
    def check(cls, record: dict[str, str]) -> None:
        super().check(record)
        if not cls.TABLE.match(record.get("table", "")):
            raise RecordInvalid(f"`{record.get('table', '')[:64]}` is not a table name such as "
                                "sn_customerservice_case or incident")

    async def present(self, ticket: Ticket) -> bool:
        query = f"element_id={ticket.record['id']}^element=work_notes^valueLIKE{ticket.decision_id}"
        page = _json(await self.api.call("GET", "/api/now/table/sys_journal_field", (200,),
                                         params={"sysparm_query": query, "sysparm_fields": "sys_id",
                                                 "sysparm_limit": 1})) or {}
        return bool(page.get("result"))

    def _path(self, ticket: Ticket) -> str:
        return f"/api/now/table/{ticket.record['table']}/{self.path_id(ticket)}"

    async def post(self, ticket: Ticket, tags: tuple[str, ...], cost: str | None) -> None:
        await self.api.call("PATCH", self._path(ticket), (200,), json={"work_notes": ticket.note, **self.costs(cost)})

    async def mark(self, ticket: Ticket, tags: tuple[str, ...], cost: str | None) -> None:
        if self.costs(cost):
            await self.api.call("PATCH", self._path(ticket), (200,), json=self.costs(cost))


class Salesforce(_Vendor):
    ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
    ID_DESCRIPTION = "a Case Id (15 or 18 letters and digits; the outbound message's `Id`)"
    tags_supported = False

    @staticmethod
    def headers(settings: WebhookSettings) -> dict[str, str]:
        return {"Accept": "application/json"}

    @property
    def data(self) -> str:
        return f"/services/data/v{self.settings.webhook_salesforce_api_version}"

    async def present(self, ticket: Ticket) -> bool:
        soql = (f"SELECT Id, CommentBody FROM CaseComment WHERE ParentId = '{ticket.record['id']}' "
                "ORDER BY CreatedDate DESC")
        url, params = f"{self.data}/query", {"q": soql}
        for _ in range(MAX_PAGES):
            page = _json(await self.api.call("GET", url, (200,), params=params)) or {}
            if any(isinstance(record, dict) and _holds(record.get("CommentBody"), ticket.decision_id)
                   for record in page.get("records") or ()):
                return True
            following = page.get("nextRecordsUrl")
            if page.get("done", True) or not isinstance(following, str) or not following.startswith("/services/"):
                return False
            url, params = following, {}
        return False

    async def post(self, ticket: Ticket, tags: tuple[str, ...], cost: str | None) -> None:
        await self.api.call("POST", f"{self.data}/sobjects/CaseComment", (201,), json={
            "ParentId": ticket.record["id"], "CommentBody": _fit(ticket.note, SALESFORCE_COMMENT_CHARS),
            "IsPublished": False})

    async def mark(self, ticket: Ticket, tags: tuple[str, ...], cost: str | None) -> None:
        if self.costs(cost):
            await self.api.call("PATCH", f"{self.data}/sobjects/Case/{self.path_id(ticket)}", (204,),
                                json=self.costs(cost))


class Intercom(_Vendor):
    tags_supported = False

    @staticmethod
    def headers(settings: WebhookSettings) -> dict[str, str]:
        token = settings.webhook_intercom_access_token
        return {"Authorization": f"Bearer {token.get_secret_value() if token else ''}",
                "Intercom-Version": settings.webhook_intercom_api_version, "Accept": "application/json"}

    async def present(self, ticket: Ticket) -> bool:
        conversation = _json(await self.api.call("GET", f"/conversations/{self.path_id(ticket)}", (200,))) or {}
        parts = (conversation.get("conversation_parts") or {}).get("conversation_parts") or ()
        return any(isinstance(part, dict) and _holds(part.get("body"), ticket.decision_id) for part in parts)

    async def post(self, ticket: Ticket, tags: tuple[str, ...], cost: str | None) -> None:
        await self.api.call("POST", f"/conversations/{self.path_id(ticket)}/reply", (200,), json={
            "message_type": "note", "type": "admin", "admin_id": self.settings.webhook_intercom_admin_id,
            "body": as_html(ticket.note)})

    async def mark(self, ticket: Ticket, tags: tuple[str, ...], cost: str | None) -> None:
        if self.costs(cost):
            await self.api.call("PUT", f"/conversations/{self.path_id(ticket)}", (200,),
                                json={"custom_attributes": self.costs(cost)})


VENDORS: dict[str, type[_Vendor]] = {"zendesk": Zendesk, "freshdesk": Freshdesk, "jira": Jira,
                                     "servicenow": ServiceNow, "salesforce": Salesforce, "intercom": Intercom}


# ---------------------------------------------------------------------------------- the writer

class Writer:
    """The app's write-back: one HTTP client, one lock per ticket, Salesforce's token."""

    def __init__(self, settings: WebhookSettings):
        self.settings = settings
        self._client: httpx.AsyncClient | None = None
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}
        self._salesforce_token: str | None = None

    def enabled(self, system: str) -> bool:
        return system in VENDORS and self.settings.writeback_enabled(system)

    def check(self, system: str, record: dict[str, str]) -> None:
        """RecordInvalid when `record` is not an id `system`'s API takes."""
        VENDORS[system].check(record)

    def budget(self) -> _Budget:
        return _Budget(self.settings.webhook_writeback_timeout_seconds)

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(follow_redirects=False, trust_env=False,
                                             headers={"User-Agent": f"service-recovery/{__version__}"},
                                             limits=httpx.Limits(max_connections=20, max_keepalive_connections=10))
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _base(self, system: str) -> str:
        return str(getattr(self.settings, f"webhook_{system}_api_url"))

    async def _api(self, system: str, budget: _Budget) -> _Api:
        headers = dict(VENDORS[system].headers(self.settings))  # type: ignore[attr-defined]
        if system == "salesforce":
            headers["Authorization"] = f"Bearer {await self._token(budget)}"
        return _Api(system, self.client(), self._base(system), headers, budget)

    async def _token(self, budget: _Budget, fresh: bool = False) -> str:
        if self._salesforce_token is None or fresh:
            secret = self.settings.webhook_salesforce_client_secret
            api = _Api("salesforce", self.client(), self._base("salesforce"), {"Accept": "application/json"},
                       budget)
            answer = _json(await api.call("POST", "/services/oauth2/token", (200,), data={
                "grant_type": "client_credentials", "client_id": self.settings.webhook_salesforce_client_id or "",
                "client_secret": secret.get_secret_value() if secret else ""})) or {}
            token = answer.get("access_token")
            if not isinstance(token, str) or not token:
                raise WritebackFailed("salesforce", "the token endpoint answered without an access_token")
            self._salesforce_token = token
        return self._salesforce_token

    async def write(self, ticket: Ticket, budget: _Budget) -> Outcome:
        """Posts the note unless the ticket has it, then sets tags and the cost field; WritebackFailed if not."""
        started = time.monotonic()
        key = (ticket.system, ticket.record.get("id", ""))
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                outcome = await self._write(ticket, budget)
        except WritebackFailed as exc:
            self._record(ticket, "failed", None, started, exc)
            raise
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
        self._record(ticket, outcome.result, outcome.calls, started, None)
        return outcome

    async def _write(self, ticket: Ticket, budget: _Budget) -> Outcome:
        api = await self._api(ticket.system, budget)
        vendor = VENDORS[ticket.system](self.settings, api)
        tags = ticket.tags if self.settings.webhook_writeback_tags and vendor.tags_supported else ()
        cost = ticket.cost if vendor.cost_field else None
        try:
            return await self._steps(vendor, ticket, tags, cost)
        except WritebackFailed as exc:
            if ticket.system == "salesforce" and exc.vendor_status == 401 and self._salesforce_token is not None:
                api.headers["Authorization"] = f"Bearer {await self._token(budget, fresh=True)}"  # expired token
                return await self._steps(vendor, ticket, tags, cost)
            raise

    async def _steps(self, vendor: _Vendor, ticket: Ticket, tags: tuple[str, ...], cost: str | None) -> Outcome:
        present = await vendor.present(ticket)
        if not present:
            await vendor.post(ticket, tags, cost)
        if present or not vendor.posts_marks:
            await vendor.mark(ticket, tags, cost)
        return Outcome("present" if present else "posted", vendor.api.calls, tags, vendor.costs(cost))

    def _record(self, ticket: Ticket, result: Result, calls: int | None, started: float,
                failure: WritebackFailed | None) -> None:
        metrics.count(metrics.WEBHOOK_WRITEBACKS, ticket.system, result)
        fields: dict[str, Any] = {"system": ticket.system, "ticket": ticket.record.get("id"),
                                  "decision_id": ticket.decision_id, "result": result,
                                  "ms": round((time.monotonic() - started) * 1000, 1)}
        if failure is not None:
            fields.update(detail=failure.detail, vendor_status=failure.vendor_status,
                          retry_after=failure.retry_after)
            log.warning("writeback", extra=fields)
        else:
            fields["calls"] = calls
            log.info("writeback", extra=fields)
