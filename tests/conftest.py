from collections.abc import Iterator

import django_rq
import pytest
from django.test import Client

from connectors.simulator.client import SimulatorClient
from connectors.simulator.server import RunningSimulator, start_in_thread
from inbox.models import Membership, User, Workspace
from tests.factories import make_member, make_user, make_workspace


@pytest.fixture(autouse=True)
def _clean_redis() -> Iterator[None]:
    """Every test starts with an empty Redis database (the test settings' own db number)."""
    connection = django_rq.get_connection("default")
    connection.flushdb()
    yield
    connection.flushdb()


@pytest.fixture
def owner(db: None) -> User:
    return make_user(full_name="Ольга Владелец")


@pytest.fixture
def workspace(owner: User) -> Workspace:
    return make_workspace(owner=owner, name="Ромашка")


@pytest.fixture
def other_workspace(db: None) -> Workspace:
    return make_workspace(name="Чужая компания")


@pytest.fixture
def agent(workspace: Workspace) -> User:
    return make_member(workspace=workspace, role=Membership.Role.AGENT, full_name="Антон Агент")


@pytest.fixture
def admin_member(workspace: Workspace) -> User:
    return make_member(workspace=workspace, role=Membership.Role.ADMIN, full_name="Алла Админ")


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="inbox.tenancy.MemberBackend")
    return client


@pytest.fixture
def owner_client(owner: User, workspace: Workspace) -> Client:
    return _client_for(owner)


@pytest.fixture
def agent_client(agent: User) -> Client:
    return _client_for(agent)


@pytest.fixture
def admin_client_member(admin_member: User) -> Client:
    return _client_for(admin_member)


# --- the marketplace simulator on a free local port (connector and browser tests) -------------
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
