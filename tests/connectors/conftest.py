"""Fixtures for connector tests: the marketplace simulator on a free local port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.simulator.client import SimulatorClient
from connectors.simulator.server import RunningSimulator, start_in_thread


class SimulatorFixture(SimulatorClient):
    """A running simulator: ``.url`` is its base URL, the methods drive its control API."""

    def __init__(self, running: RunningSimulator) -> None:
        super().__init__(running.url)
        self.running = running


@pytest.fixture(scope="session")
def simulator() -> Iterator[SimulatorFixture]:
    running = start_in_thread(host="127.0.0.1", port=0, seed=1)
    fixture = SimulatorFixture(running)
    try:
        yield fixture
    finally:
        fixture.close()
        running.stop()


@pytest.fixture(autouse=True)
def _reset_simulator_between_tests(request: pytest.FixtureRequest) -> None:
    """Every test that uses ``simulator`` starts from an empty simulator (no accounts, zero stats)."""
    if "simulator" in request.fixturenames:
        request.getfixturevalue("simulator").reset()
