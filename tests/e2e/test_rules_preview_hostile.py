"""Hostile rules text sent to `POST /rules/preview` (the red-team cases): an alias bomb, nesting a
thousand deep in the JSON body or in the YAML, a 200,000-digit number. Each is a 400 naming the
problem, answered at once, costing memory in proportion to its size; never a 500."""

from __future__ import annotations

import json
import tracemalloc
from typing import Any

import pytest

from tests.conftest import SECRETS, json_body

HEADERS = {"Authorization": f"Bearer {SECRETS['ADMIN_API_KEY']}", "Content-Type": "application/json"}


def preview(client: Any, body: str) -> Any:
    return client.http.post("/rules/preview", body=body, headers=HEADERS)


def alias_bomb() -> str:
    """About 120 KB: one 60 KB anchor, then 10,000 aliases to it."""
    anchor = "x: &big [" + ", ".join(f"w{n:05d}" for n in range(7_500)) + "]\n"
    return anchor + "lists:\n  l: [" + ", ".join(["*big"] * 10_000) + "]\n"


def test_an_alias_bomb_is_refused_in_memory_proportional_to_its_size(client) -> None:
    """(Its time is in `make bench`: the rules preview section.)"""
    text = alias_bomb()
    assert 100_000 < len(text) < 200_000
    tracemalloc.start()
    reply = preview(client, json.dumps({"rules": text}))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert reply.status_code == 400 and json_body(reply)["code"] == "invalid_rules"
    assert "aliases expand" in json_body(reply)["issues"][0]["message"]
    assert peak < 100 * len(text), peak  # proportional to the text, not to the 75 million values it expands to


@pytest.mark.parametrize(
    "rules",
    ["{a: " * 1_000 + "1" + "}" * 1_000, "[" * 1_000 + "]" * 1_000, "version: " + "9" * 200_000],
    ids=["1,000-deep mapping", "1,000-deep sequence", "a 200,000-digit number"],
)
def test_deep_or_huge_yaml_is_400(client, rules: str) -> None:
    reply = preview(client, json.dumps({"rules": rules}))
    assert reply.status_code == 400 and json_body(reply)["code"] == "invalid_rules", reply.body


def test_a_json_body_nested_a_thousand_deep_is_400(client) -> None:
    reply = preview(client, '{"rules": ' + "[" * 1_000 + "]" * 1_000 + "}")
    assert reply.status_code == 400, reply.body
