"""`make run`: everything the product needs, in one terminal; Ctrl-C stops all of it."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from agentiq.embedded_redis import shutdown_embedded_redis

WEB_PORT = int(os.environ.get("PORT", "8000"))


def background_processes(manage: list[str], *, simulator_port: str) -> list[list[str]]:
    """The simulator, RQ workers and cron that the product runs beside its web server.

    Separate workers for sync, AI and the outbox, so a long first sync never delays the
    auto-replies of another account (the e2e benchmark starts the same set).
    """
    return [
        [*manage, "marketplace_simulator", "--port", simulator_port],
        [*manage, "rqworker", "sync", "default", "--with-scheduler"],
        [*manage, "rqworker", "ai", "default"],
        [*manage, "rqworker", "outbox"],
        [*manage, "rqcron", "agentiq.cron"],
    ]


def _raise_keyboard_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _wait_for(url: str, *, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx.get(url, timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise CommandError(f"{url} не отвечает") from None
            time.sleep(0.3)


class Command(BaseCommand):
    help = "Migrate, load the demo workspace and run web server, simulator, RQ worker and cron."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=WEB_PORT)
        parser.add_argument(
            "--no-demo", action="store_true", help="Do not load the demo workspace."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        # Settings already resolved the embedded Redis when REDIS_URL was unset: hand the
        # same server to every child so they share one queue.
        env["REDIS_URL"] = settings.REDIS_URL
        Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)

        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(self.style.SUCCESS("База данных готова."))

        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        simulator_port = settings.SIMULATOR_URL.rsplit(":", 1)[-1].rstrip("/")
        commands = [
            [*manage, "runserver", f"127.0.0.1:{options['port']}", "--noreload"],
            *background_processes(manage, simulator_port=simulator_port),
        ]
        children = [
            subprocess.Popen(cmd, env=env, start_new_session=True)  # own process group each
            for cmd in commands
        ]
        # `kill` / a closed terminal must clean up like Ctrl-C does.
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        signal.signal(signal.SIGHUP, _raise_keyboard_interrupt)
        try:
            if not options["no_demo"]:
                simulator_url = f"http://127.0.0.1:{simulator_port}"
                _wait_for(f"{simulator_url}/_simulator/stats")
                call_command("load_demo", simulator_url=simulator_url, stdout=self.stdout)
            self.stdout.write(
                self.style.SUCCESS(
                    f"\nAgentIQ работает: http://127.0.0.1:{options['port']}/\n"
                    "Вход в демо: demo@agentiq.local / demo-password-2026\n"
                    "Остановить всё: Ctrl-C\n"
                )
            )
            self._wait(children)
        except KeyboardInterrupt:
            self.stdout.write("\nОстанавливаю…")
        finally:
            self._stop(children)
            shutdown_embedded_redis()

    @staticmethod
    def _wait(children: list[subprocess.Popen]) -> None:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)

    @staticmethod
    def _stop(children: list[subprocess.Popen]) -> None:
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
