"""A Pipedrive company behind its API as Pipedrive documents it (developers.pipedrive.com, API v1
`GET/POST /personFields`, API v2 `GET /persons` with `cursor`, `PATCH /persons/{id}` with
`custom_fields`), served by a real local HTTP server so the real client code runs. It checks the
`x-api-token` header, keeps the persons and their custom fields, and can be told to refuse."""

from __future__ import annotations

import hashlib
import json
import re
from collections import deque
from typing import Any

from werkzeug import Request, Response

from tests.integration.crm_fakes import json_response

TOKEN = "pd-token-0123456789"


class FakePipedrive:
    def __init__(self, httpserver: Any, prefix: str = "/api") -> None:
        self.persons: dict[str, dict[str, Any]] = {}
        self.fields: list[dict[str, Any]] = []
        self.updates: list[tuple[str, dict[str, Any]]] = []  # (person id, custom_fields written)
        self.failures: deque[tuple[int, dict[str, str]]] = deque()  # what the next PATCHes answer
        self.requests = 0
        serve = httpserver.expect_request
        serve(f"{prefix}/v1/personFields", method="GET").respond_with_handler(self._guard(self.list_fields))
        serve(f"{prefix}/v1/personFields", method="POST").respond_with_handler(self._guard(self.add_field))
        serve(f"{prefix}/v2/persons", method="GET").respond_with_handler(self._guard(self.list_persons))
        serve(re.compile(f"{prefix}/v2/persons/[0-9]+"), method="PATCH").respond_with_handler(self._guard(self.update))

    def add(self, person_id: int, email: str, name: str = "", updated: str = "2026-12-01T09:00:00Z") -> None:
        self.persons[str(person_id)] = {
            "id": person_id, "name": name or email.split("@")[0], "first_name": name.split(" ")[0] if name else None,
            "last_name": None, "emails": [{"label": "work", "value": email, "primary": True}], "phones": [],
            "org_id": None, "owner_id": 18820001, "add_time": updated, "update_time": updated, "custom_fields": {},
            "is_deleted": False, "visible_to": 7,
        }  # fmt: skip

    def value(self, person_id: int | str, field_name: str) -> Any:
        key = next(field["key"] for field in self.fields if field["name"] == field_name)
        return self.persons[str(person_id)]["custom_fields"].get(key)

    def _guard(self, handler: Any) -> Any:
        def answer(request: Request) -> Response:
            self.requests += 1
            if request.headers.get("x-api-token") != TOKEN:
                return json_response({"success": False, "error": "unauthorized access", "errorCode": 401}, 401)
            return handler(request)  # type: ignore[no-any-return]

        return answer

    def list_fields(self, request: Request) -> Response:
        start, limit = int(request.args.get("start", 0)), int(request.args.get("limit", 100))
        page = self.fields[start : start + limit]
        more = start + limit < len(self.fields)
        pagination = {"start": start, "limit": limit, "more_items_in_collection": more, "next_start": start + limit}
        return json_response({"success": True, "data": page, "additional_data": {"pagination": pagination}})

    def add_field(self, request: Request) -> Response:
        body = json.loads(request.data)
        key = hashlib.sha1(body["name"].encode()).hexdigest()  # a 40-character key, as Pipedrive makes
        field = {"id": len(self.fields) + 9000, "key": key, "name": body["name"], "field_type": body["field_type"]}
        self.fields.append(field)
        return json_response({"success": True, "data": field}, 201)

    def list_persons(self, request: Request) -> Response:
        since = request.args.get("updated_since")
        chosen = sorted((p for p in self.persons.values() if not since or p["update_time"] >= since),
                        key=lambda p: (p["update_time"], p["id"]))  # fmt: skip
        start, limit = int(request.args.get("cursor") or 0), int(request.args.get("limit", 100))
        following = str(start + limit) if start + limit < len(chosen) else None
        return json_response({"success": True, "data": chosen[start : start + limit],
                              "additional_data": {"next_cursor": following}})  # fmt: skip

    def update(self, request: Request) -> Response:
        person_id = request.path.rsplit("/", 1)[-1]
        if self.failures:
            status, headers = self.failures.popleft()
            return json_response(
                {"success": False, "error": "Request over limit", "errorCode": status}, status, headers
            )
        if person_id not in self.persons:
            return json_response({"success": False, "error": "Person not found", "errorCode": 404}, 404)
        fields = json.loads(request.data).get("custom_fields") or {}
        known = {field["key"] for field in self.fields}
        if set(fields) - known:
            return json_response({"success": False, "error": "unknown custom field", "errorCode": 400}, 400)
        self.persons[person_id]["custom_fields"].update(fields)
        self.updates.append((person_id, fields))
        return json_response({"success": True, "data": self.persons[person_id]})


def pipedrive_with(httpserver: Any, monkeypatch: Any) -> FakePipedrive:
    """The service pointed at a FakePipedrive (a new container)."""
    from tests.conftest import use_container

    monkeypatch.setenv("PIPEDRIVE_API_TOKEN", TOKEN)
    monkeypatch.setenv("PIPEDRIVE_API_BASE", httpserver.url_for("/api"))
    use_container()
    return FakePipedrive(httpserver)
