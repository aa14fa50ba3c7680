"""The deployed stages packaged once for the whole session, exactly as `make package` does it."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.package import build
from infra.stages import deployed_stages


@pytest.fixture(scope="session")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("out")
    for stage in deployed_stages():
        build(stage, out / stage)
    return {stage: out / stage for stage in deployed_stages()}
