"""Deploy tests: the chart rendered by the cached helm (devenv/helm_tool.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devenv import helm_tool
from tests.deploy.chart import CASES, render_text


@pytest.fixture(scope="session")
def helm_binary() -> Path:
    return helm_tool.ensure_helm()


@pytest.fixture(scope="session")
def rendered(helm_binary: Path) -> dict[str, str]:
    """Every case of chart.CASES, rendered once per session: name -> manifest text."""
    return {case.name: render_text(helm_binary, case.args()) for case in CASES}
