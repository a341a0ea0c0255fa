"""What the benchmark scripts share: a production-like environment, a fresh database, the
simulator as a subprocess, free ports and the peak RSS of this process."""

import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Fixed, public values: benchmarks run DEBUG off (no query log), which refuses the dev secrets.
BENCH_FERNET_KEY = "Y4QS2lrfeQrrIBlwGYyZe2c0AP9ETWy_eRlNCE0b2Ro="
BENCH_SECRET_KEY = "bench-not-a-secret-" + "x" * 40


def production_like(*, database_url: str, redis_url: str, simulator_limits: bool = True) -> None:
    """Environment of a production worker (set before Django is imported).

    `simulator_limits=False`: the simulator runs with its rate limits off, and so do we.
    """
    if not simulator_limits:
        os.environ["MARKETPLACE_CLIENT_LIMITS"] = "false"
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    os.environ["DEBUG"] = "0"
    os.environ["SECRET_KEY"] = BENCH_SECRET_KEY
    os.environ["FIELD_ENCRYPTION_KEY"] = BENCH_FERNET_KEY
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentiq.settings")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fresh_database(url: str) -> None:
    """Drop and re-create a database: every run starts from the real, empty schema."""
    name = url.rsplit("/", 1)[-1]
    subprocess.run(["dropdb", "--if-exists", name], capture_output=True, check=False)
    subprocess.run(["createdb", name], capture_output=True, check=True)


def start_simulator(port: int) -> subprocess.Popen[bytes]:
    """The marketplace simulator on `port`, in its own process; returns once it listens."""
    process = subprocess.Popen(
        [sys.executable, "manage.py", "marketplace_simulator", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("simulator did not start")


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
