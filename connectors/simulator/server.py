"""HTTP front of the marketplace simulator.

``https://{host}{path}`` of a real marketplace is served at ``{url}/{host}{path}``; the control API
is under ``{url}/_simulator/``. Entry points: ``run(host, port, seed)`` (foreground) and
``start_in_thread(...)`` (tests, benchmarks).
"""

from __future__ import annotations

import json
import logging
import random
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

from connectors.simulator.core import (
    Fault,
    FaultKind,
    SimRequest,
    SimResponse,
    arrival_rates,
    json_response,
)
from connectors.simulator.registry import Registry
from connectors.simulator.tokens import InvalidTokenError, decode_wb_token, make_wb_token
from connectors.simulator.wb_api import BASKET_HOST_RE, WB_API_HOSTS, WbApi
from connectors.simulator.wb_data import WbAccount, WbAccountOptions

logger = logging.getLogger(__name__)

CONTROL_PREFIX = "_simulator"
OZON_HOST = "api-seller.ozon.ru"


class ControlError(ValueError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _error(status: int, message: str) -> SimResponse:
    return json_response(status, {"error": message})


def _int_field(body: dict[str, Any], name: str, default: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ControlError(400, f"{name} must be a non-negative integer")
    return value


class Simulator:
    """Dispatches parsed requests to the marketplace APIs and the control API."""

    def __init__(self, seed: int = 1) -> None:
        self.registry = Registry(default_seed=seed)
        self.wb = WbApi(self.registry)
        self.ozon: Callable[[SimRequest], SimResponse] | None = None
        self.ozon_control: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        try:
            from connectors.simulator.ozon_api import OzonApi
        except ImportError:
            logger.info("Simulator runs without Ozon support")
        else:
            ozon_api = OzonApi(self.registry)
            self.ozon = ozon_api.handle
            self.ozon_control = ozon_api.create_account

    def handle(self, request: SimRequest) -> SimResponse:
        if request.host == CONTROL_PREFIX:
            try:
                return self.control(request)
            except ControlError as error:
                return _error(error.status, str(error))
        self.registry.count_request()
        if request.host in WB_API_HOSTS or BASKET_HOST_RE.match(request.host):
            return self.wb.handle(request)
        if request.host == OZON_HOST and self.ozon is not None:
            return self.ozon(request)
        return _error(404, f"unknown host {request.host!r}")

    # ----------------------------------------------------------------- control API
    def control(self, request: SimRequest) -> SimResponse:
        parts = [part for part in request.path.split("/") if part]
        method = request.method
        body: dict[str, Any] = {}
        if request.body:
            try:
                loaded = json.loads(request.body)
            except ValueError as error:
                raise ControlError(400, f"invalid JSON: {error}") from error
            if not isinstance(loaded, dict):
                raise ControlError(400, "body must be a JSON object")
            body = loaded
        if method == "POST" and parts == ["reset"]:
            self.registry.reset()
            return json_response(200, {"status": "ok"})
        if method == "GET" and parts == ["stats"]:
            return json_response(200, self.stats())
        if method == "GET" and parts == ["health"]:
            return json_response(200, {"status": "ok"})
        if method == "POST" and parts == ["accounts"]:
            return json_response(200, self.create_account(body))
        if len(parts) == 3 and parts[0] == "accounts":
            account = self.registry.account(parts[1])
            if account is None:
                raise ControlError(404, f"unknown account {parts[1]!r}")
            action = parts[2]
            if method == "GET" and action == "truth":
                with account.lock:
                    return json_response(200, account.truth())
            if method == "GET" and action == "answers":
                with account.lock:
                    answers = [answer.as_dict() for answer in getattr(account, "answers", [])]
                return json_response(200, {"account_id": account.account_id, "answers": answers})
            if method == "POST" and action == "generate":
                return json_response(200, self.generate(account, body))
            if method == "POST" and action == "faults":
                return json_response(200, self.add_fault(account, body))
            if method == "POST" and action == "restore_token":
                with account.lock:
                    account.is_revoked = False
                return json_response(200, {"account_id": account.account_id, "revoked": False})
            if method == "POST" and action == "settings":
                with account.lock:
                    if "limits" in body:
                        account.limits_enabled = bool(body["limits"])  # type: ignore[attr-defined]
                        account.buckets.clear()  # type: ignore[attr-defined]
                    account.faults.clear()
                    configure = getattr(account, "configure", None)
                    if configure is not None:
                        try:
                            configure(body)
                        except (TypeError, ValueError) as error:
                            raise ControlError(400, str(error)) from error
                return json_response(200, {"account_id": account.account_id})
        raise ControlError(
            404, f"unknown control endpoint {method} /{CONTROL_PREFIX}{request.path}"
        )

    def stats(self) -> dict[str, Any]:
        registry = self.registry
        with registry.lock:
            accounts = list(registry.accounts.values())
            total = registry.total_requests
        result: dict[str, Any] = {}
        for account in accounts:
            with account.lock:
                result[account.account_id] = account.stats.as_dict()
        return {"accounts": result, "total_requests": total}

    def create_account(self, body: dict[str, Any]) -> dict[str, Any]:
        marketplace = body.get("marketplace", "wb")
        if marketplace == "ozon":
            if self.ozon_control is None:
                raise ControlError(400, "Ozon is not supported by this simulator build")
            return self.ozon_control(body)
        if marketplace != "wb":
            raise ControlError(400, f"unknown marketplace {marketplace!r}")
        registry = self.registry
        seed = _int_field(body, "seed", registry.default_seed)
        token = body.get("token")
        if token is not None:
            if not isinstance(token, str):
                raise ControlError(400, "token must be a string")
            existing = registry.wb_account_for_token(token)
            if existing is not None:
                return {"account_id": existing.account_id, "token": token, "created": False}
            try:
                claims = decode_wb_token(token)
            except InvalidTokenError as error:
                raise ControlError(400, f"token is not a WB JWT: {error}") from error
        else:
            sid_rng = random.Random(f"{seed}:wb:sid:{len(registry.accounts)}")
            seller_id = str(uuid.UUID(int=sid_rng.getrandbits(128), version=4))
            categories = body.get("categories", (1, 7, 9))
            try:
                token = make_wb_token(
                    seller_id=seller_id,
                    token_type=str(body.get("token_type", "personal")),
                    categories=[int(category) for category in categories],
                    read_only=bool(body.get("read_only", False)),
                )
            except (TypeError, ValueError) as error:
                raise ControlError(400, str(error)) from error
            claims = decode_wb_token(token)
        try:
            arrival = arrival_rates(body.get("arrival_per_minute"))
        except ValueError as error:
            raise ControlError(400, str(error)) from error
        options = WbAccountOptions(
            seed=seed,
            reviews=_int_field(body, "reviews", 100),
            archived_reviews=_int_field(body, "archived_reviews", 10),
            questions=_int_field(body, "questions", 20),
            chats=_int_field(body, "chats", 5),
            products=max(1, _int_field(body, "products", 20)),
            limits=bool(body.get("limits", True)),
            arrival_per_minute=arrival,
            answered_share=float(body.get("answered_share", 0.3)),
            moderation_seconds=float(body.get("moderation_seconds", 5.0)),
        )
        account_id = registry.next_account_id("wb")
        account = WbAccount(account_id, token, claims, options, registry.texts)
        with registry.lock:
            already = registry.wb_tokens.get(token)
            if already is not None:
                return {"account_id": already, "token": token, "created": False}
            registry.accounts[account_id] = account
            registry.wb_tokens[token] = account_id
            for product in account.products:
                registry.wb_products[product.nm_id] = product
        logger.info(
            "Simulator account created", extra={"account_id": account_id, "marketplace": "wb"}
        )
        return {"account_id": account_id, "token": token, "created": True}

    def generate(self, account: Any, body: dict[str, Any]) -> dict[str, Any]:
        rating = body.get("rating")
        if rating is not None and (not isinstance(rating, int) or not 1 <= rating <= 5):
            raise ControlError(400, "rating must be an integer 1..5")
        with account.lock:
            created = account.generate(
                reviews=_int_field(body, "reviews", 0),
                questions=_int_field(body, "questions", 0),
                chats=_int_field(body, "chats", 0),
                chat_messages=_int_field(body, "chat_messages", 0),
                rating=rating,
                with_text=bool(body.get("with_text", True)),
            )
        return {"account_id": account.account_id, **created}

    def add_fault(self, account: Any, body: dict[str, Any]) -> dict[str, Any]:
        try:
            kind = FaultKind(str(body.get("kind")))
        except ValueError:
            raise ControlError(400, f"kind must be one of {[k.value for k in FaultKind]}") from None
        count = _int_field(body, "count", 1)
        delay = body.get("delay_seconds", 0)
        if not isinstance(delay, int | float) or delay < 0:
            raise ControlError(400, "delay_seconds must be a non-negative number")
        path_contains = body.get("path_contains")
        if path_contains is not None and not isinstance(path_contains, str):
            raise ControlError(400, "path_contains must be a string")
        with account.lock:
            if kind is FaultKind.REVOKED:
                account.is_revoked = True
            else:
                account.faults.add(Fault(kind, count, float(delay), path_contains))
            pending = account.faults.pending()
        return {"account_id": account.account_id, "revoked": account.is_revoked, "pending": pending}


# --------------------------------------------------------------------------- HTTP server
class SimulatorRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MarketplaceSimulator/1.0"
    simulator: Simulator  # set on the subclass built by make_server

    def setup(self) -> None:
        super().setup()
        # Small responses must not wait for the peer's delayed ACK (Nagle): ~40 ms per request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("Simulator request", extra={"line": format % args})

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        raw_path = unquote(split.path)
        stripped = raw_path.lstrip("/")
        host, _, rest = stripped.partition("/")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        request = SimRequest(
            method=self.command,
            host=host.lower(),
            path="/" + rest,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        try:
            response = self.simulator.handle(request)
        except Exception:
            logger.exception(
                "Simulator handler failed", extra={"host": request.host, "path": request.path}
            )
            response = json_response(500, {"error": "simulator internal error"})
        if response.drop_connection:
            self.close_connection = True
            return
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.body and self.command != "HEAD":
            self.wfile.write(response.body)
            self.wfile.flush()

    do_GET = _dispatch
    do_POST = _dispatch
    do_PATCH = _dispatch
    do_PUT = _dispatch
    do_DELETE = _dispatch
    do_HEAD = _dispatch


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def make_server(
    host: str = "127.0.0.1", port: int = 0, seed: int = 1
) -> tuple[SimulatorHTTPServer, Simulator]:
    simulator = Simulator(seed=seed)
    handler = cast(
        type[SimulatorRequestHandler],
        type("BoundSimulatorRequestHandler", (SimulatorRequestHandler,), {"simulator": simulator}),
    )
    server = SimulatorHTTPServer((host, port), handler)
    return server, simulator


@dataclass(frozen=True, slots=True)
class RunningSimulator:
    url: str
    server: SimulatorHTTPServer
    simulator: Simulator
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_in_thread(host: str = "127.0.0.1", port: int = 0, seed: int = 1) -> RunningSimulator:
    """Start the simulator on a background daemon thread; ``port=0`` picks a free port."""
    server, simulator = make_server(host, port, seed)
    bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
    thread = threading.Thread(
        target=server.serve_forever, name="marketplace-simulator", daemon=True
    )
    thread.start()
    return RunningSimulator(f"http://{bound_host}:{bound_port}", server, simulator, thread)


def run(host: str = "127.0.0.1", port: int = 8001, seed: int = 1) -> None:
    """Serve in the foreground until interrupted."""
    server, _ = make_server(host, port, seed)
    logger.info(
        "Simulator listening",
        extra={
            "host": host,
            "port": port,
            "seed": seed,
            "started_at": datetime.now(UTC).isoformat(),
        },
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        logger.info("Simulator stopped")
    finally:
        server.server_close()
