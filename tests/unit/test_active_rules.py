"""The rules in force in a container (rules/active.py) over the in-memory versions: cached,
checked once per interval, and steady when storage or a version fails."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.releases import start_shadow
from chalicelib.errors import RulesUnavailable, StorageUnavailable
from chalicelib.rules import DEFAULT_RULES_PATH, rules_loader
from chalicelib.rules.active import ActiveRules
from chalicelib.service_layer.rules_releases import RulesReleases
from chalicelib.storage.memory.rules_versions import MemoryRulesVersions
from tests.helpers import NOW

BUNDLED = DEFAULT_RULES_PATH.read_text(encoding="utf-8")
DEMO = "event: demo_request, points: 50, cap: 50"
EDITED = BUNDLED.replace(DEMO, DEMO.replace("50", "80")).replace("name: seed-model", "name: demo-heavy", 1)


class Flaky(MemoryRulesVersions):
    """The in-memory versions, told to fail as DynamoDB would when throttled or unreachable."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def pointer(self, consistent: bool = False) -> Any:
        if self.down:
            raise StorageUnavailable("DynamoDB get_item: ThrottlingException")
        return super().pointer(consistent)


def test_storage_down_keeps_the_version_in_force_and_a_new_container_answers_503() -> None:
    versions, clock = Flaky(), [0.0]
    RulesReleases(versions, lambda: BUNDLED).deploy(EDITED, "ana", "", NOW)
    rules = ActiveRules(lambda: versions, rules_loader(), 60, lambda: clock[0])
    assert rules().name == "demo-heavy"
    versions.down, clock[0] = True, 120.0
    assert rules().name == "demo-heavy"  # kept: the pointer could not be checked
    with pytest.raises(StorageUnavailable):  # nothing in force yet: a 503, and the sender retries
        ActiveRules(lambda: versions, rules_loader(), 60, lambda: clock[0])()


def test_a_broken_shadow_is_dropped_and_the_active_version_stays() -> None:
    from chalicelib.storage.ports import RulesVersion

    versions = MemoryRulesVersions()
    releases = RulesReleases(versions, lambda: BUNDLED)
    releases.seed(NOW)
    versions.add(RulesVersion(2, BUNDLED.replace("points: 50", "pionts: 50", 1), "x", "broken", "ana", NOW))
    releases._move(lambda read: start_shadow(read, 2, NOW, "ana"))  # stored by a release that accepted it
    rules = ActiveRules(lambda: versions, rules_loader(), 60)
    assert rules().name == "seed-model" and rules.shadow() is None
    (problem,) = rules.status()["problems"]
    assert problem.startswith("rules version 2: line") and problem.endswith("no shadow is scored")
    missing = MemoryRulesVersions()
    RulesReleases(missing, lambda: BUNDLED).seed(NOW)
    del missing.versions[1]
    with pytest.raises(RulesUnavailable, match="rules version 1 is missing"):
        ActiveRules(lambda: missing, rules_loader(), 60)()
