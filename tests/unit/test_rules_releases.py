"""The pure parts of rules versions: how a command moves the pointer, and a diff in words."""

from __future__ import annotations

import pytest
import yaml

from chalicelib.domain.releases import (
    ReleaseRefused,
    RulesPointer,
    activate,
    promote,
    rollback,
    start_shadow,
    stop_shadow,
)
from chalicelib.domain.rules_diff import diff_lines, rules_diff
from chalicelib.domain.rules_yaml import parse_rules
from chalicelib.rules import DEFAULT_RULES_PATH
from tests.helpers import NOW

BUNDLED = DEFAULT_RULES_PATH.read_text(encoding="utf-8")


def test_activate_rollback_shadow_promote_and_stop() -> None:
    pointer = activate(RulesPointer(), 1, NOW, "seed")
    pointer = activate(pointer, 2, NOW, "ana")
    pointer = activate(pointer, 3, NOW, "ana")
    assert (pointer.active, pointer.activations, pointer.revision) == (3, (1, 2, 3), 3)
    pointer = rollback(pointer, NOW, "bo")
    assert (pointer.active, pointer.activations) == (2, (1, 2))
    pointer = rollback(pointer, NOW, "bo")
    assert pointer.active == 1
    with pytest.raises(ReleaseRefused, match="no earlier active version"):
        rollback(pointer, NOW, "bo")
    with pytest.raises(ReleaseRefused, match="already active"):
        activate(pointer, 1, NOW, "bo")
    with pytest.raises(ReleaseRefused, match="must differ"):
        start_shadow(pointer, 1, NOW, "bo")
    pointer = start_shadow(pointer, 4, NOW, "ana")
    pointer = start_shadow(pointer, 5, NOW, "ana")  # replaces the running shadow
    assert (pointer.shadow, pointer.shadow_since) == (5, NOW)
    promoted = promote(pointer, NOW, "ana")
    assert (promoted.active, promoted.shadow, promoted.activations[-1]) == (5, None, 5)
    assert rollback(promoted, NOW, "ana").active == 1  # back to what was active before the promotion
    stopped = stop_shadow(pointer, NOW, "ana")
    assert (stopped.active, stopped.shadow) == (1, None)
    with pytest.raises(ReleaseRefused, match="no shadow"):
        promote(stopped, NOW, "ana")
    assert [entry["action"] for entry in stopped.log][-3:] == ["shadow", "shadow", "shadow stopped"]


def test_a_diff_names_what_changed_section_by_section() -> None:
    before = parse_rules(BUNDLED)
    data = yaml.safe_load(BUNDLED)
    data["engagement"]["rules"] = [rule for rule in data["engagement"]["rules"] if rule["name"] != "page_homepage"]
    data["engagement"]["rules"][::-1] = data["engagement"]["rules"]  # reordered: no change in meaning
    next(band for band in data["tiers"]["bands"] if band["name"] == "hot")["min"] = 70
    data["fit"][0]["options"][0]["points"] = 25
    data["lists"]["target_industries"].append("aerospace")
    after = parse_rules(yaml.safe_dump(data))
    sections = {section["section"]: section["changes"] for section in rules_diff(before, after)}
    assert sections == {
        "lists": ["list 'target_industries': 1 added (aerospace), 0 removed"],
        "fit": ["fit rule 'company_size' option '100+ employees' points: 20 → 25"],
        "engagement": ["engagement rule 'page_homepage' removed"],
        "tiers": ["tier 'hot' min: 61 → 70"],
    }
    assert diff_lines(before, before) == ["no difference in meaning"]
