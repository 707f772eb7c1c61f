"""An in-memory stand-in for the gateway's HTTP contract, for the browser tests.

It serves the real web app from services/gateway/static and implements the documented
API (session cookie, trajectory list and detail, guidance, attention heartbeats, SSE),
so the tests can later point at the real gateway by changing one fixture. Standard
library only: one thread per connection, which suits long-lived event streams.
"""

from __future__ import annotations

import json
import mimetypes
import queue
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import trajectory_summary

COOKIE = "apollo_session"
GUIDANCE_KINDS = ("advice", "knowledge", "correction")
MAX_GUIDANCE_CHARS = 4000
KEEPALIVE_SECONDS = 5.0


@dataclass(frozen=True)
class User:
    """An annotator account."""

    name: str
    role: str


@dataclass
class Subscriber:
    """One open event stream: everything for the list, or one trajectory."""

    user: User
    trajectory_id: str | None
    messages: queue.Queue[str] = field(default_factory=queue.Queue)


class FakeGateway:
    """The gateway contract in memory, plus test hooks: push_event, create_user."""

    def __init__(self, static_dir: Path) -> None:
        self.static_dir = static_dir.resolve()
        self.attention: list[tuple[str, str, float]] = []  # (user, trajectory_id, seconds)
        self._tokens: dict[str, User] = {}
        self._sessions: dict[str, User] = {}
        self._events: dict[str, list[dict[str, Any]]] = {}
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the gateway first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeGateway:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._closing.set()  # ends the streaming handlers at their next wake-up
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- test hooks -------------------------------------------------------------------

    def create_user(self, name: str, role: str = "annotator") -> str:
        """Adds an account and returns its API token."""
        token = secrets.token_urlsafe(16)
        self._tokens[token] = User(name, role)
        return token

    def push_event(self, event: dict[str, Any]) -> None:
        """Appends an event to its trajectory's log and streams it to every subscriber."""
        message = _sse("apollo", event)
        with self._lock:
            self._events.setdefault(event["trajectory_id"], []).append(event)
            targets = [
                s for s in self._subscribers if s.trajectory_id in (None, event["trajectory_id"])
            ]
        for subscriber in targets:
            subscriber.messages.put(message)

    # --- the contract ---------------------------------------------------------------

    def log_in(self, token: str) -> str | None:
        user = self._tokens.get(token)
        if user is None:
            return None
        session = secrets.token_urlsafe(24)
        self._sessions[session] = user
        return session

    def user_for(self, session: str | None) -> User | None:
        return self._sessions.get(session or "")

    def log_out(self, session: str | None) -> None:
        self._sessions.pop(session or "", None)

    def summaries(self) -> list[dict[str, Any]]:
        with self._lock:
            logs = {tid: list(events) for tid, events in self._events.items()}
        return [
            trajectory_summary.summarize(tid, ev, self._watchers(tid)) for tid, ev in logs.items()
        ]

    def detail(self, trajectory_id: str) -> dict[str, Any] | None:
        with self._lock:
            events = list(self._events.get(trajectory_id, []))
        if not events:
            return None
        return {
            "summary": trajectory_summary.summarize(
                trajectory_id, events, self._watchers(trajectory_id)
            ),
            "events": events,
            "sessions": trajectory_summary.sessions(events),
            "file_changes": trajectory_summary.file_changes(events),
        }

    def submit_guidance(self, user: User, trajectory_id: str, request: dict[str, Any]) -> str:
        """Records guidance as a guidance_submitted event; raises ValueError when invalid."""
        text, kind, flags = (
            request.get("text", ""),
            request.get("kind"),
            request.get("flag_steps", []),
        )
        if kind not in GUIDANCE_KINDS:
            raise ValueError(f"kind must be one of {', '.join(GUIDANCE_KINDS)}")
        if not isinstance(text, str) or len(text) > MAX_GUIDANCE_CHARS:
            raise ValueError(f"text must be a string of at most {MAX_GUIDANCE_CHARS} characters")
        if not isinstance(flags, list) or not all(isinstance(s, int) and s >= 0 for s in flags):
            raise ValueError("flag_steps must be a list of step indices")
        if not text.strip() and not flags:
            raise ValueError("Write some guidance or flag at least one step.")
        event_id = str(uuid.uuid4())
        self.push_event(
            {
                "event_id": event_id,
                "trajectory_id": trajectory_id,
                "occurred_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "source": {"service": "gateway", "version": "fake"},
                "guidance_submitted": {
                    "annotator": user.name,
                    "kind": f"GUIDANCE_KIND_{kind.upper()}",
                    "text": text,
                    "flagged_step_indices": flags,
                    "channel": "web",
                },
            }
        )
        return event_id

    def subscribe(self, user: User, trajectory_id: str | None) -> Subscriber:
        subscriber = Subscriber(user, trajectory_id)
        with self._lock:
            self._subscribers.append(subscriber)
        if trajectory_id:
            self._announce_presence(trajectory_id)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.remove(subscriber)
        if subscriber.trajectory_id:
            self._announce_presence(subscriber.trajectory_id)

    def is_closing(self) -> bool:
        return self._closing.is_set()

    def _watchers(self, trajectory_id: str) -> list[str]:
        with self._lock:
            names = {s.user.name for s in self._subscribers if s.trajectory_id == trajectory_id}
        return sorted(names)

    def _announce_presence(self, trajectory_id: str) -> None:
        message = _sse(
            "presence", {"trajectory_id": trajectory_id, "watchers": self._watchers(trajectory_id)}
        )
        with self._lock:
            targets = [s for s in self._subscribers if s.trajectory_id in (None, trajectory_id)]
        for subscriber in targets:
            subscriber.messages.put(message)


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


def _handler_for(gateway: FakeGateway) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to one gateway."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

        # --- plumbing ---

        def _session(self) -> str | None:
            morsel = SimpleCookie(self.headers.get("Cookie", "")).get(COOKIE)
            return morsel.value if morsel else None

        def _json(self, status: int, payload: Any = None, headers: dict[str, str] | None = None):
            body = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if payload is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                payload = json.loads(self.rfile.read(length) or b"{}")
            except json.JSONDecodeError:
                return {}
            return payload if isinstance(payload, dict) else {}

        def _user(self) -> User | None:
            user = gateway.user_for(self._session())
            if user is None:
                self._json(HTTPStatus.UNAUTHORIZED, {"detail": "Not signed in."})
            return user

        # --- routes ---

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/" or url.path.startswith("/static/"):
                return self._static(url.path)
            user = self._user()
            if user is None:
                return None
            if url.path == "/api/me":
                return self._json(HTTPStatus.OK, {"name": user.name, "role": user.role})
            if url.path == "/api/trajectories":
                return self._json(HTTPStatus.OK, gateway.summaries())
            if url.path.startswith("/api/trajectories/"):
                detail = gateway.detail(url.path.removeprefix("/api/trajectories/"))
                if detail is None:
                    return self._json(HTTPStatus.NOT_FOUND, {"detail": "No such trajectory."})
                return self._json(HTTPStatus.OK, detail)
            if url.path == "/api/stream":
                trajectory_id = parse_qs(url.query).get("trajectory_id", [None])[0]
                return self._stream(user, trajectory_id)
            return self._json(HTTPStatus.NOT_FOUND, {"detail": "Not found."})

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            if path == "/api/session":
                session = gateway.log_in(str(self._body().get("token", "")))
                if session is None:
                    return self._json(HTTPStatus.UNAUTHORIZED, {"detail": "Invalid token."})
                cookie = f"{COOKIE}={session}; HttpOnly; Path=/; SameSite=Strict"
                return self._json(HTTPStatus.NO_CONTENT, headers={"Set-Cookie": cookie})
            user = self._user()
            if user is None:
                return None
            trajectory_id, _, action = path.removeprefix("/api/trajectories/").partition("/")
            if gateway.detail(trajectory_id) is None:
                return self._json(HTTPStatus.NOT_FOUND, {"detail": "No such trajectory."})
            if action == "attention":
                gateway.attention.append((user.name, trajectory_id, self._body().get("seconds")))
                return self._json(HTTPStatus.NO_CONTENT)
            if action != "guidance":
                return self._json(HTTPStatus.NOT_FOUND, {"detail": "Not found."})
            if user.role == "viewer":
                return self._json(HTTPStatus.FORBIDDEN, {"detail": "Viewers cannot send guidance."})
            try:
                event_id = gateway.submit_guidance(user, trajectory_id, self._body())
            except ValueError as error:
                return self._json(HTTPStatus.UNPROCESSABLE_ENTITY, {"detail": str(error)})
            return self._json(HTTPStatus.ACCEPTED, {"event_id": event_id})

        def do_DELETE(self) -> None:
            if urlsplit(self.path).path != "/api/session":
                return self._json(HTTPStatus.NOT_FOUND, {"detail": "Not found."})
            gateway.log_out(self._session())
            expired = f"{COOKIE}=; HttpOnly; Path=/; Max-Age=0"
            return self._json(HTTPStatus.NO_CONTENT, headers={"Set-Cookie": expired})

        def _static(self, path: str) -> None:
            relative = "index.html" if path == "/" else path.removeprefix("/static/")
            target = (gateway.static_dir / relative).resolve()
            if not target.is_relative_to(gateway.static_dir) or not target.is_file():
                return self._json(HTTPStatus.NOT_FOUND, {"detail": "Not found."})
            body = target.read_bytes()
            # Module scripts only run when served with a JavaScript MIME type.
            kind = "text/javascript" if target.suffix == ".js" else mimetypes.guess_type(target)[0]
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", kind or "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)
            return None

        def _stream(self, user: User, trajectory_id: str | None) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            subscriber = gateway.subscribe(user, trajectory_id)
            try:
                self.wfile.write(b": connected\n\n")
                self.wfile.flush()
                while not gateway.is_closing():
                    try:
                        message = subscriber.messages.get(timeout=KEEPALIVE_SECONDS)
                    except queue.Empty:
                        message = ": keepalive\n\n"  # also detects a closed browser tab
                    self.wfile.write(message.encode())
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the browser went away
            finally:
                gateway.unsubscribe(subscriber)

    return Handler
