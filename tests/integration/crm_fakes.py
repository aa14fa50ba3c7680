"""Stand-ins for HubSpot and Salesforce served by a real local HTTP server (pytest-httpserver), so
the real HTTP client code runs; each keeps the CRM's state and can be told to fail."""

from __future__ import annotations

import contextlib
import json
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

from werkzeug import Request, Response

from chalicelib.bootstrap import container
from chalicelib.entrypoints.sqs import poll_once
from chalicelib.service_layer.messages import ReceivedTask
from chalicelib.service_layer.task_report import TaskReport


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


class FakeHubSpot:
    """Contacts by id (and email); `failures` is a queue of what the next batch calls answer."""

    def __init__(self, httpserver: Any) -> None:
        self.contacts: dict[str, dict[str, str]] = {}
        self.emails: dict[str, str] = {}
        self.failures: deque[str] = deque()
        self.calls: list[dict[str, Any]] = []
        self.invalid_properties: set[str] = set()
        self.rejects: set[str] = set()  # contacts whose every update fails validation
        self.companies: dict[str, dict[str, str]] = {}
        self.company_calls: list[dict[str, Any]] = []
        httpserver.expect_request("/crm/v3/objects/contacts/batch/update", method="POST").respond_with_handler(
            self.batch_update
        )
        httpserver.expect_request("/crm/v3/objects/companies/batch/update", method="POST").respond_with_handler(
            self.companies_update
        )

    def companies_update(self, request: Request) -> Response:
        body = json.loads(request.data)
        self.company_calls.append(body)
        errors = []
        for item in body["inputs"]:
            if item["id"] in self.companies:
                self.companies[item["id"]].update(item["properties"])
            else:
                errors.append({"status": "error", "category": "OBJECT_NOT_FOUND", "context": {"ids": [item["id"]]}})
        if errors:
            return json_response({"status": "COMPLETE", "results": [], "numErrors": len(errors), "errors": errors}, 207)
        return json_response({"status": "COMPLETE", "results": []})

    def add(self, contact_id: str, email: str | None = None) -> None:
        self.contacts[contact_id] = {}
        if email:
            self.emails[email] = contact_id

    def batch_update(self, request: Request) -> Response:
        body = json.loads(request.data)
        self.calls.append(body)
        failure = self.failures.popleft() if self.failures else "ok"
        if failure == "429":
            return json_response(
                {"status": "error", "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"}, 429
            )
        if failure == "429-daily":
            return json_response({"status": "error", "errorType": "RATE_LIMIT", "policyName": "DAILY"}, 429)
        if failure == "500":
            return json_response({"status": "error", "message": "internal"}, 500)
        if failure == "timeout":
            time.sleep(0.8)  # longer than the client's read timeout (0.5 s) in these tests
            return json_response({}, 200)
        errors, found = [], []
        for item in body["inputs"]:
            contact_id = self.emails.get(item["id"]) if item.get("idProperty") == "email" else item["id"]
            if contact_id not in self.contacts:
                errors.append({"status": "error", "category": "OBJECT_NOT_FOUND", "context": {"ids": [item["id"]]}})
            elif contact_id in self.rejects or set(item["properties"]) & self.invalid_properties:
                errors.append({"status": "error", "category": "VALIDATION_ERROR", "context": {"ids": [item["id"]]}})
            else:
                found.append((contact_id, item["properties"]))
        if errors and failure == "400":
            return json_response({"status": "error", "category": "VALIDATION_ERROR", "message": "bad input"}, 400)
        for contact_id, properties in found:
            self.contacts[contact_id].update(properties)
        if errors:
            return json_response({"status": "COMPLETE", "results": [], "numErrors": len(errors), "errors": errors}, 207)
        return json_response({"status": "COMPLETE", "results": []})


def hubspot_with(httpserver: Any, monkeypatch: Any, *contacts: str) -> FakeHubSpot:
    """The service pointed at a FakeHubSpot holding these contacts (a new container)."""
    from tests.conftest import use_container

    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-test")
    monkeypatch.setenv("HUBSPOT_API_BASE", httpserver.url_for(""))
    use_container()
    fake = FakeHubSpot(httpserver)
    for contact in contacts:
        fake.add(contact)
    return fake


class FakeSalesforce:
    def __init__(self, httpserver: Any) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.emails: dict[str, str] = {}
        self.valid_token = "token-1"
        self.token_requests = 0
        self.calls: list[dict[str, Any]] = []
        self.locked: set[str] = set()
        httpserver.expect_request("/services/oauth2/token", method="POST").respond_with_handler(self.token)
        httpserver.expect_request("/services/data/v60.0/composite/sobjects", method="PATCH").respond_with_handler(
            self.composite
        )
        httpserver.expect_request("/services/data/v60.0/query", method="GET").respond_with_handler(self.query)

    def add(self, record_id: str, email: str) -> None:
        self.records[record_id] = {"Email": email}
        self.emails[email] = record_id

    def token(self, request: Request) -> Response:
        form = parse_qs(request.get_data(as_text=True))
        if form.get("grant_type") != ["client_credentials"]:
            return json_response({"error": "unsupported_grant_type"}, 400)
        self.token_requests += 1
        self.valid_token = f"token-{self.token_requests + 1}"
        return json_response({"access_token": self.valid_token, "token_type": "Bearer"})

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.valid_token}"

    def query(self, request: Request) -> Response:
        if not self._authorized(request):
            return json_response([{"errorCode": "INVALID_SESSION_ID", "message": "Session expired"}], 401)
        soql = unquote(request.args["q"])
        object_type = "Lead" if " FROM Lead " in soql else "Contact"
        prefix = "00Q" if object_type == "Lead" else "003"
        rows = [{"Id": record_id, "Email": email} for email, record_id in self.emails.items()
                if f"'{email}'" in soql and record_id.startswith(prefix)]  # fmt: skip
        return json_response({"totalSize": len(rows), "done": True, "records": rows})

    def composite(self, request: Request) -> Response:
        if not self._authorized(request):
            return json_response([{"errorCode": "INVALID_SESSION_ID", "message": "Session expired"}], 401)
        body = json.loads(request.data)
        self.calls.append(body)
        results = []
        for record in body["records"]:
            record_id = record["id"]
            if record_id in self.locked:
                results.append({"id": record_id, "success": False, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW"}]})
            elif record_id not in self.records:
                results.append({"id": record_id, "success": False, "errors": [{"statusCode": "ENTITY_IS_DELETED"}]})
            else:
                self.records[record_id].update({k: v for k, v in record.items() if k not in ("id", "attributes")})
                results.append({"id": record_id, "success": True, "errors": []})
        return json_response(results)


class Worker:
    """Drives the write-back consumer the way SQS and Lambda would, with time under the test's control:
    a retried message stays hidden until `release()` (time passing) makes it visible again."""

    def __init__(self) -> None:
        self.service = container().task_handler
        self.queue = self.service.queue
        self.delays: list[tuple[ReceivedTask, float]] = []
        self._hide = original = self.queue.retry_later

        def record(message: ReceivedTask, seconds: float) -> None:
            self.delays.append((message, seconds))
            original(message, seconds)

        self.queue.retry_later = record  # type: ignore[method-assign]

    def poll(self) -> TaskReport:
        return poll_once(self.queue, self.service, datetime.now(UTC), wait_seconds=0)

    def release(self) -> None:
        for message, _ in self.delays:
            with contextlib.suppress(Exception):  # the message may be gone already
                self._hide(message, 0)
        self.delays.clear()

    def drain(self, rounds: int = 20) -> None:
        for _ in range(rounds):
            self.release()
            if not self.poll().written and not self.queue_depth():
                return

    def queue_depth(self) -> int:
        attributes = self.queue.client.get_queue_attributes(
            QueueUrl=self.queue.url(self.queue.queue_name),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def purge(self) -> None:
        for name in (self.queue.queue_name, self.queue.dead_letter_name):
            self.queue.client.purge_queue(QueueUrl=self.queue.url(name))

    def dead_letters(self) -> list[dict[str, Any]]:
        client = self.queue.client
        response = client.receive_message(QueueUrl=self.queue.url(self.queue.dead_letter_name), MaxNumberOfMessages=10)
        return [json.loads(message["Body"]) for message in response.get("Messages", [])]


class FakeHubSpotPortal:
    """A HubSpot portal's contacts behind the CRM API as HubSpot documents it: the list endpoint
    (`after` cursor, 100 a page), search (lastmodifieddate GTE, ascending, `total`, at most 10,000
    results), batch read and batch update. `failures` maps a path to a queue of answers to give
    instead ("429" with Retry-After 2, "daily"); `calls` records every request's path."""

    def __init__(
        self, httpserver: Any, contacts: list[dict[str, Any]], companies: list[dict[str, Any]] | None = None
    ) -> None:
        self.contacts = {contact["id"]: contact for contact in contacts}
        self.companies = {company["id"]: company for company in companies or []}
        self.order = [contact["id"] for contact in contacts]
        self.calls: list[str] = []
        self.updates: list[dict[str, Any]] = []
        self.company_updates: list[dict[str, Any]] = []
        self.failures: dict[str, deque[str]] = {}
        for path, method, handler in (
            ("/crm/v3/objects/contacts", "GET", self.list_page),
            ("/crm/v3/objects/contacts/search", "POST", self.search),
            ("/crm/v3/objects/contacts/batch/read", "POST", self.batch_read),
            ("/crm/v3/objects/contacts/batch/update", "POST", self.batch_update),
            ("/crm/v3/objects/companies/batch/update", "POST", self.companies_update),
            ("/crm/v3/objects/companies/batch/read", "POST", self.companies_read),
        ):
            httpserver.expect_request(path, method=method).respond_with_handler(self._guarded(path, handler))

    def fail(self, path: str, *answers: str) -> None:
        self.failures.setdefault(path, deque()).extend(answers)

    def _guarded(self, path: str, handler: Any) -> Any:
        def answer(request: Request) -> Response:
            self.calls.append(path)
            pending = self.failures.get(path)
            failure = pending.popleft() if pending else None
            if failure == "429":
                body = {"status": "error", "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"}
                return json_response(body, 429, {"Retry-After": "2"})
            if failure == "daily":
                return json_response({"status": "error", "errorType": "RATE_LIMIT", "policyName": "DAILY"}, 429)
            return handler(request)

        return answer

    def _view(self, contact_id: str, properties: list[str]) -> dict[str, Any]:
        contact = self.contacts[contact_id]
        values = {name: contact["properties"].get(name) for name in properties}
        values.update(hs_object_id=contact_id, lastmodifieddate=contact["updatedAt"])
        return {"id": contact_id, "properties": values, "createdAt": contact["updatedAt"],
                "updatedAt": contact["updatedAt"], "archived": False}  # fmt: skip

    def list_page(self, request: Request) -> Response:
        args = request.args
        limit = min(int(args.get("limit", 10)), 100)
        start = int(args.get("after", 0))
        properties = args.get("properties", "").split(",")
        ids = self.order[start : start + limit]
        body: dict[str, Any] = {"results": [self._view(contact_id, properties) for contact_id in ids]}
        if start + limit < len(self.order):
            body["paging"] = {"next": {"after": str(start + limit), "link": f"?after={start + limit}"}}
        return json_response(body)

    def search(self, request: Request) -> Response:
        query = json.loads(request.data)
        since = 0
        for group in query.get("filterGroups", []):
            for rule in group["filters"]:
                assert (rule["propertyName"], rule["operator"]) == ("lastmodifieddate", "GTE")
                since = int(rule["value"])
        matching = sorted(
            (contact for contact in self.contacts.values() if _millis(contact["updatedAt"]) >= since),
            key=lambda contact: (_millis(contact["updatedAt"]), int(contact["id"])),
        )
        start, limit = int(query.get("after", 0)), min(int(query.get("limit", 10)), 200)
        if start >= 10_000:
            return json_response({"status": "error", "category": "VALIDATION_ERROR"}, 400)
        page = matching[start : start + limit]
        body: dict[str, Any] = {
            "total": len(matching),
            "results": [self._view(contact["id"], query.get("properties", [])) for contact in page],
        }
        if start + limit < len(matching):
            body["paging"] = {"next": {"after": str(start + limit)}}
        return json_response(body)

    def batch_read(self, request: Request) -> Response:
        query = json.loads(request.data)
        found = [self._view(item["id"], query["properties"]) for item in query["inputs"] if item["id"] in self.contacts]
        return json_response({"status": "COMPLETE", "results": found})

    def batch_update(self, request: Request) -> Response:
        body = json.loads(request.data)
        self.updates.append(body)
        for item in body["inputs"]:
            if item["id"] in self.contacts:
                self.contacts[item["id"]]["properties"].update(item["properties"])
        return json_response({"status": "COMPLETE", "results": []})

    def companies_read(self, request: Request) -> Response:
        query = json.loads(request.data)
        found = []
        for item in query["inputs"]:
            company = self.companies.get(item["id"])
            if company is not None:
                values = {name: company["properties"].get(name) for name in query["properties"]}
                found.append({"id": item["id"], "properties": values, "updatedAt": company["updatedAt"],
                              "archived": False})  # fmt: skip
        return json_response({"status": "COMPLETE", "results": found})

    def companies_update(self, request: Request) -> Response:
        self.company_updates.append(json.loads(request.data))
        return json_response({"status": "COMPLETE", "results": []})

    def count(self, path: str) -> int:
        return self.calls.count(path)


def _millis(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)
