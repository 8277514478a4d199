"""Loopback HTTP servers standing in for the ticketing vendors' REST APIs.

Each implements, as the vendor documents them, the endpoints the write-back calls:
the paths and methods, the authentication header, the request and answer bodies,
the status codes (201 for a created note, 204 for Jira's and Salesforce's updates,
404 for an unknown ticket, 401 for a wrong credential) and the rate-limit answer
(429 with Retry-After; Intercom with X-RateLimit-Reset). Tickets live in memory;
`fail()` scripts the next answers of one endpoint (a 429, a 500, a slow answer),
and `requests` records every call so a test can say what the vendor saw.

    Zendesk     GET  /api/v2/tickets/{id}/comments.json (cursor pages), PUT /api/v2/tickets/{id}.json
    Freshdesk   GET  /api/v2/tickets/{id}/conversations, POST .../notes, GET/PUT /api/v2/tickets/{id}
    Jira (JSM)  GET/POST /rest/servicedeskapi/request/{key}/comment, PUT /rest/api/3/issue/{key}
    ServiceNow  GET /api/now/table/sys_journal_field?sysparm_query=..., PATCH /api/now/table/{table}/{sys_id}
    Salesforce  POST /services/oauth2/token, GET /services/data/vNN.0/query, POST .../sobjects/CaseComment,
                PATCH .../sobjects/Case/{id}
    Intercom    GET/PUT /conversations/{id}, POST /conversations/{id}/reply
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

Answer = tuple[int, dict[str, str], Any]


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    headers: dict[str, str]
    times: int
    delay: float = 0.0


@dataclass
class Vendor:
    """One vendor's API on a loopback port."""

    name: str
    authorization: str
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    ids: Any = field(default_factory=lambda: itertools.count(9000))

    def fail(self, method: str, path: str, status: int, headers: dict[str, str] | None = None, times: int = 1,
             delay: float = 0.0) -> None:
        """The next `times` calls of `method` on paths matching the regex `path` answer `status`."""
        with self.lock:
            self.faults.append(Fault(method, re.compile(path), status, headers or {}, times, delay))

    def calls(self, method: str, path: str) -> list[Seen]:
        return [seen for seen in self.requests if seen.method == method and re.search(path, seen.path)]

    def _fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.method == method and fault.pattern.search(path) and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: Any) -> Answer:
        raise NotImplementedError


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _error(status: int, body: Any) -> Answer:
    return status, {}, body


# --------------------------------------------------------------------------- Zendesk

class Zendesk(Vendor):
    def add(self, ticket_id: str, first_comment: str = "My parcel has not arrived.") -> None:
        self.tickets[ticket_id] = {"comments": [{"id": next(self.ids), "type": "Comment", "body": first_comment,
                                                 "plain_body": first_comment, "public": True,
                                                 "author_id": 388190123}],
                                   "tags": ["late_delivery"], "custom_fields": {}}

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: Any) -> Answer:
        found = re.fullmatch(r"/api/v2/tickets/(\d+)/comments\.json", path)
        if method == "GET" and found:
            ticket = self.tickets.get(found.group(1))
            if ticket is None:
                return _error(404, {"error": "RecordNotFound", "description": "Not found"})
            comments = list(ticket["comments"])
            if query.get("sort") == ["-created_at"]:
                comments.reverse()
            size = int(query.get("page[size]", ["100"])[0])
            start = int(query.get("page[after]", ["0"])[0])
            page = comments[start:start + size]
            more = start + size < len(comments)
            following = f"{self.url}{path}?page[size]={size}&page[after]={start + size}" if more else None
            if following and query.get("sort"):
                following += "&sort=" + query["sort"][0]
            return 200, {}, {"comments": page, "meta": {"has_more": more, "after_cursor": str(start + size)},
                             "links": {"next": following, "prev": None}}
        found = re.fullmatch(r"/api/v2/tickets/(\d+)\.json", path)
        if method == "PUT" and found:
            ticket = self.tickets.get(found.group(1))
            if ticket is None:
                return _error(404, {"error": "RecordNotFound", "description": "Not found"})
            update = (body or {}).get("ticket")
            if not isinstance(update, dict):
                return _error(400, {"error": "InvalidEndpoint", "description": "ticket object required"})
            comment = update.get("comment")
            if comment is not None:
                ticket["comments"].append({"id": next(self.ids), "type": "Comment", "body": comment["body"],
                                           "plain_body": comment["body"], "public": comment.get("public", True),
                                           "author_id": 1900000001})
            for tag in update.get("additional_tags") or ():
                if tag not in ticket["tags"]:
                    ticket["tags"].append(tag)
            for item in update.get("custom_fields") or ():
                ticket["custom_fields"][str(item["id"])] = item["value"]
            return 200, {}, {"ticket": {"id": int(found.group(1)), "tags": ticket["tags"]},
                             "audit": {"id": next(self.ids), "events": []}}
        return _error(404, {"error": "InvalidEndpoint", "description": "Not found"})

    def notes(self, ticket_id: str) -> list[dict[str, Any]]:
        return [comment for comment in self.tickets[ticket_id]["comments"] if comment["author_id"] == 1900000001]


# --------------------------------------------------------------------------- Freshdesk

class Freshdesk(Vendor):
    def add(self, ticket_id: str) -> None:
        self.tickets[ticket_id] = {"conversations": [], "tags": ["double_charge", "cause_us"], "custom_fields": {}}

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: Any) -> Answer:
        found = re.fullmatch(r"/api/v2/tickets/(\d+)(/conversations|/notes)?", path)
        if not found:
            return _error(404, {"code": "invalid_value", "message": "Not found"})
        ticket = self.tickets.get(found.group(1))
        if ticket is None:
            return _error(404, {"description": "Validation failed", "errors": [{"code": "not_found"}]})
        tail = found.group(2)
        if method == "GET" and tail == "/conversations":
            per_page, page = int(query.get("per_page", ["30"])[0]), int(query.get("page", ["1"])[0])
            return 200, {}, ticket["conversations"][(page - 1) * per_page: page * per_page]
        if method == "POST" and tail == "/notes":
            if not isinstance(body, dict) or not body.get("body"):
                return _error(400, {"description": "Validation failed",
                                    "errors": [{"field": "body", "message": "It should not be blank",
                                                "code": "missing_field"}]})
            note = {"id": next(self.ids), "body": body["body"], "body_text": re.sub(r"<[^>]+>", " ", body["body"]),
                    "private": body.get("private", True), "incoming": False, "ticket_id": int(found.group(1))}
            ticket["conversations"].append(note)
            return 201, {}, note
        if method == "GET" and tail is None:
            return 200, {}, self._ticket(found.group(1))
        if method == "PUT" and tail is None:
            if "tags" in body:
                ticket["tags"] = list(body["tags"])
            ticket["custom_fields"].update(body.get("custom_fields") or {})
            return 200, {}, self._ticket(found.group(1))
        return _error(405, {"code": "method_not_allowed"})

    def _ticket(self, ticket_id: str) -> dict[str, Any]:
        ticket = self.tickets[ticket_id]
        return {"id": int(ticket_id), "tags": ticket["tags"], "custom_fields": ticket["custom_fields"]}

    def notes(self, ticket_id: str) -> list[dict[str, Any]]:
        return self.tickets[ticket_id]["conversations"]


# --------------------------------------------------------------------------- Jira Service Management

class Jira(Vendor):
    def add(self, key: str) -> None:
        self.tickets[key] = {"comments": [{"id": str(next(self.ids)), "body": "It arrived cracked.", "public": True}],
                             "labels": ["damaged_item"], "fields": {}}

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: Any) -> Answer:
        found = re.fullmatch(r"/rest/servicedeskapi/request/([A-Z][A-Z0-9_]*-\d+)/comment", path)
        if found:
            issue = self.tickets.get(found.group(1))
            if issue is None:
                return _error(404, {"errorMessage": "Request does not exist", "i18nErrorMessage": {}})
            if method == "GET":
                start, limit = int(query.get("start", ["0"])[0]), int(query.get("limit", ["50"])[0])
                values = issue["comments"][start:start + limit]
                return 200, {}, {"size": len(values), "start": start, "limit": limit,
                                 "isLastPage": start + limit >= len(issue["comments"]), "values": values}
            if method == "POST":
                comment = {"id": str(next(self.ids)), "body": body["body"], "public": body.get("public", True),
                           "author": {"accountId": "5b10ac8d82e05b22cc7d4ef5"}}
                issue["comments"].append(comment)
                return 201, {}, comment
        found = re.fullmatch(r"/rest/api/3/issue/([A-Z][A-Z0-9_]*-\d+)", path)
        if found and method == "PUT":
            issue = self.tickets.get(found.group(1))
            if issue is None:
                return _error(404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."],
                                    "errors": {}})
            for operation in ((body.get("update") or {}).get("labels") or ()):
                if "add" in operation and operation["add"] not in issue["labels"]:
                    issue["labels"].append(operation["add"])
            issue["fields"].update(body.get("fields") or {})
            return 204, {}, None
        return _error(404, {"errorMessages": ["null for uri"]})

    def notes(self, key: str) -> list[dict[str, Any]]:
        return [comment for comment in self.tickets[key]["comments"] if "author" in comment]


# --------------------------------------------------------------------------- ServiceNow

class ServiceNow(Vendor):
    def add(self, table: str, sys_id: str) -> None:
        self.tickets[sys_id] = {"table": table, "fields": {}}
        self.journal: list[dict[str, Any]] = getattr(self, "journal", [])

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: Any) -> Answer:
        self.journal = getattr(self, "journal", [])
        if method == "GET" and path == "/api/now/table/sys_journal_field":
            conditions = query.get("sysparm_query", [""])[0].split("^")
            rows = self.journal
            for condition in conditions:
                if "LIKE" in condition:
                    name, _, value = condition.partition("LIKE")
                    rows = [row for row in rows if value in row.get(name, "")]
                elif "=" in condition:
                    name, _, value = condition.partition("=")
                    rows = [row for row in rows if row.get(name) == value]
            limit = int(query.get("sysparm_limit", ["10000"])[0])
            fields = query.get("sysparm_fields", [""])[0].split(",")
            return 200, {}, {"result": [{name: row[name] for name in fields if name in row} for row in rows[:limit]]}
        found = re.fullmatch(r"/api/now/table/([a-z0-9_]+)/([0-9a-f]{32})", path)
        if found and method == "PATCH":
            record = self.tickets.get(found.group(2))
            if record is None or record["table"] != found.group(1):
                return _error(404, {"error": {"message": "No Record found",
                                              "detail": "Record doesn't exist or ACL restricts the record retrieval"},
                                    "status": "failure"})
            for name, value in (body or {}).items():
                if name == "work_notes":
                    self.journal.append({"sys_id": f"{next(self.ids):032x}", "element_id": found.group(2),
                                         "element": "work_notes", "name": found.group(1), "value": value})
                else:
                    record["fields"][name] = value
            return 200, {}, {"result": {"sys_id": found.group(2), **record["fields"]}}
        return _error(400, {"error": {"message": "Invalid table", "detail": None}, "status": "failure"})

    def notes(self, sys_id: str) -> list[dict[str, Any]]:
        return [row for row in getattr(self, "journal", []) if row["element_id"] == sys_id]


# --------------------------------------------------------------------------- Salesforce

class Salesforce(Vendor):
    client_id: str = ""
    client_secret: str = ""
    token: str = ""

    def add(self, case_id: str) -> None:
        self.tickets[case_id] = {"comments": [], "fields": {}}

    def expire_token(self) -> None:
        self.token = "00D5g000004Kx2e!expired"

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: Any) -> Answer:
        if path == "/services/oauth2/token" and method == "POST":
            form = body if isinstance(body, dict) else {}
            if form.get("grant_type") != "client_credentials" or form.get("client_id") != self.client_id or \
                    form.get("client_secret") != self.client_secret:
                return _error(400, {"error": "invalid_client", "error_description": "invalid client credentials"})
            self.token = f"00D5g000004Kx2e!AQ{next(self.ids)}"
            return 200, {}, {"access_token": self.token, "instance_url": self.url, "token_type": "Bearer",
                             "issued_at": str(int(time.time() * 1000)), "signature": "c2lnbmF0dXJl",
                             "id": f"{self.url}/id/00D5g000004Kx2eEAC/0055g00000AbCdEAAV"}
        if headers.get("authorization") != f"Bearer {self.token}":
            return _error(401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
        found = re.fullmatch(r"/services/data/v(\d+\.0)/(query|sobjects/CaseComment|sobjects/Case/(\w+))", path)
        if not found:
            return _error(404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])
        if found.group(2) == "query" and method == "GET":
            soql = query.get("q", [""])[0]
            parent = re.search(r"WHERE ParentId = '(\w+)'", soql)
            if not soql.startswith("SELECT Id, CommentBody FROM CaseComment") or parent is None:
                return _error(400, [{"errorCode": "MALFORMED_QUERY", "message": "unexpected query"}])
            comments = list(reversed(self.tickets.get(parent.group(1), {"comments": []})["comments"]))
            records = [{"attributes": {"type": "CaseComment",
                                       "url": f"/services/data/v62.0/sobjects/CaseComment/{item['Id']}"},
                        "Id": item["Id"], "CommentBody": item["CommentBody"]} for item in comments]
            return 200, {}, {"totalSize": len(records), "done": True, "records": records}
        if found.group(2) == "sobjects/CaseComment" and method == "POST":
            case = self.tickets.get(body.get("ParentId", ""))
            if case is None:
                return _error(400, [{"message": "Parent ID: id value of incorrect type", "fields": ["ParentId"],
                                     "errorCode": "MALFORMED_ID"}])
            if len(body.get("CommentBody", "")) > 4000:
                return _error(400, [{"message": "Body: data value too large", "errorCode": "STRING_TOO_LONG",
                                     "fields": ["CommentBody"]}])
            comment = {"Id": f"00a5g00000{next(self.ids)}AAA", "CommentBody": body["CommentBody"],
                       "IsPublished": body.get("IsPublished", False)}
            case["comments"].append(comment)
            return 201, {}, {"id": comment["Id"], "success": True, "errors": []}
        if found.group(3) and method == "PATCH":
            case = self.tickets.get(found.group(3))
            if case is None:
                return _error(404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])
            case["fields"].update(body or {})
            return 204, {}, None
        return _error(405, [{"errorCode": "METHOD_NOT_ALLOWED", "message": "method not allowed"}])

    def notes(self, case_id: str) -> list[dict[str, Any]]:
        return self.tickets[case_id]["comments"]


# --------------------------------------------------------------------------- Intercom

class Intercom(Vendor):
    admin_id: str = ""

    def add(self, conversation_id: str) -> None:
        self.tickets[conversation_id] = {"parts": [{"type": "conversation_part", "id": str(next(self.ids)),
                                                    "part_type": "comment", "body": "<p>Hello?</p>",
                                                    "author": {"type": "user", "id": "65f1c0a2"}}],
                                         "custom_attributes": {}}

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: Any) -> Answer:
        if not headers.get("intercom-version"):
            return _error(400, {"type": "error.list", "errors": [{"code": "intercom_version_invalid",
                                                                  "message": "Requested version is invalid"}]})
        found = re.fullmatch(r"/conversations/(\d+)(/reply)?", path)
        conversation = self.tickets.get(found.group(1)) if found else None
        if conversation is None:
            return _error(404, {"type": "error.list", "errors": [{"code": "not_found",
                                                                  "message": "Resource Not Found"}]})
        if method == "POST" and found and found.group(2):
            if body.get("message_type") not in ("comment", "note") or body.get("type") != "admin" or \
                    body.get("admin_id") != self.admin_id:
                return _error(400, {"type": "error.list", "errors": [{"code": "parameter_invalid",
                                                                      "message": "admin_id not found"}]})
            conversation["parts"].append({"type": "conversation_part", "id": str(next(self.ids)),
                                          "part_type": body["message_type"], "body": body["body"],
                                          "author": {"type": "admin", "id": body["admin_id"]}})
        elif method == "PUT":
            conversation["custom_attributes"].update(body.get("custom_attributes") or {})
        elif method != "GET":
            return _error(405, {"type": "error.list", "errors": [{"code": "method_not_allowed"}]})
        return 200, {}, {"type": "conversation", "id": found.group(1),
                         "custom_attributes": conversation["custom_attributes"],
                         "conversation_parts": {"type": "conversation_part.list",
                                                "conversation_parts": conversation["parts"],
                                                "total_count": len(conversation["parts"])}}

    def notes(self, conversation_id: str) -> list[dict[str, Any]]:
        return [part for part in self.tickets[conversation_id]["parts"] if part["author"]["type"] == "admin"]


# --------------------------------------------------------------------------- the server

def _handler(vendor: Vendor) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            media = (self.headers.get("content-type") or "").partition(";")[0]
            if media == "application/x-www-form-urlencoded":
                body: Any = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
            else:
                body = json.loads(raw) if raw else None
            headers = {key.lower(): value for key, value in self.headers.items()}
            query = parse_qs(parts.query)
            with vendor.lock:
                vendor.requests.append(Seen(self.command, parts.path, query, headers, body))
            fault = vendor._fault(self.command, parts.path)
            if fault is not None:
                time.sleep(fault.delay)
                self._answer(fault.status, fault.headers, {"error": "scripted", "status": fault.status})
                return
            authorized = headers.get("authorization") == vendor.authorization or vendor.name == "salesforce"
            if not authorized:
                self._answer(401, {"WWW-Authenticate": 'Basic realm="api"'}, {"error": "Couldn't authenticate you"})
                return
            with vendor.lock:
                status, extra, answer = vendor.handle(self.command, parts.path, query, headers, body)
            self._answer(status, extra, answer)

        def _answer(self, status: int, headers: dict[str, str], body: Any) -> None:
            payload = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if payload:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = _serve

    return Handler


class Running:
    """A vendor served on 127.0.0.1 until `close()`."""

    def __init__(self, vendor: Vendor):
        self.vendor = vendor
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(vendor))
        self.server.daemon_threads = True
        vendor.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


Factory = Callable[[], Vendor]
