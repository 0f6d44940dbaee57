"""A fake Slack Web API: a small threaded stdlib HTTP server on 127.0.0.1 (port 0).

Point the real ``slack_sdk.WebClient`` at it with ``WebClient(base_url=fake.base_url)``
(or ``fake.client()``), hand that client to ``slack_bolt.App(client=...)``, and every
``client.*`` / ``say()`` call of a listener lands here. ``respond()`` bypasses ``base_url``
(it posts to the payload's ``response_url``), so give payloads ``fake.response_url()``.

Every request is recorded as a :class:`Call` (including ones answered with a scripted
failure). Listeners run in Bolt's thread pool after ``ack()``, so use :meth:`FakeSlack.wait_for`
rather than reading :attr:`FakeSlack.calls` right after ``app.dispatch(...)``.

Served paths:

- ``/api/<method>``: the Web API methods below (form, JSON, multipart or query string).
- ``/response_url/<key>``: stands in for an interaction's ``response_url``.
- ``/upload/<file_id>``: the upload URL handed out by ``files.getUploadURLExternal``.
- ``/files-pri/<team>-<file_id>/download/<name>``: a shared file's ``url_private_download``
  (see :meth:`FakeSlack.add_file`), served only to a bearer token, recorded as
  ``Call(method="download")``; without one, a redirect to the sign-in page, as Slack does.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from slack_sdk import WebClient

from bot.testing.fake_slack_oauth import FakeOAuth

# Form fields that slack_sdk (or a caller) may send as JSON strings; decoded into Call.params.
JSON_FIELDS = frozenset(
    {"blocks", "attachments", "view", "files", "metadata", "user_auth_blocks", "unfurls"}
)

_TS_BASE = 1_700_000_000


@dataclass
class SlackUser:
    id: str
    team_id: str = "T1"
    name: str = ""
    email: str | None = None
    is_admin: bool = False
    is_owner: bool = False
    tz: str = "UTC"
    deleted: bool = False


@dataclass
class Call:
    """One request the fake received."""

    method: str  # "chat.postMessage", ..., "response_url", or "upload"
    params: dict[str, Any]  # merged query + body fields; JSON-string fields decoded
    token: str | None  # bearer token (or a `token` form field)
    at: float  # time.monotonic() when it arrived
    raw_params: dict[str, Any] = field(default_factory=dict)  # same fields, nothing decoded
    body: bytes = b""  # the raw request body
    content_type: str = ""
    http_method: str = "POST"
    path: str = ""
    authorization: str = ""  # the Authorization header (oauth.v2.access sends Basic)
    status: int = 200  # the HTTP status the fake answered with
    response: Any = None  # the JSON the fake answered with (dict), or text for non-JSON replies

    def json(self, key: str) -> Any:
        """``params[key]``, JSON-decoded if it is still a string (None when absent)."""
        value = self.params.get(key)
        if isinstance(value, str | bytes):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    @property
    def blocks(self) -> list[dict[str, Any]]:
        """The message's blocks (``view.blocks`` for views.*), [] when none were sent."""
        blocks = self.json("blocks")
        if blocks is None:
            view = self.json("view")
            blocks = view.get("blocks") if isinstance(view, dict) else None
        return list(blocks or [])

    def all_text(self) -> str:
        """Every human-visible string sent: ``text`` plus all ``text`` values found (recursively)
        in blocks, attachments and view, joined with newlines. Handy for ``in`` assertions."""
        out: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for k, v in node.items():
                    if k == "text" and isinstance(v, str):
                        out.append(v)
                    else:
                        walk(v)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        if isinstance(self.params.get("text"), str):
            out.append(self.params["text"])
        for key in ("blocks", "attachments", "view"):
            walk(self.json(key))
        return "\n".join(out)


@dataclass
class _Failure:
    error: str | None
    status: int
    retry_after: float | None


class _Reply:
    def __init__(
        self,
        status: int,
        payload: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.payload = payload  # dict -> JSON, str -> text/plain, bytes as they are
        self.headers = headers or {}


def _ok(**fields: Any) -> _Reply:
    return _Reply(200, {"ok": True, **fields})


def _err(error: str, **fields: Any) -> _Reply:
    return _Reply(200, {"ok": False, "error": error, **fields})


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in {"1", "true"}


def _decode_json_fields(raw: dict[str, Any]) -> dict[str, Any]:
    params = dict(raw)
    for key in JSON_FIELDS & params.keys():
        value = params[key]
        if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


def _parse_multipart(body: bytes, content_type: str) -> list[tuple[str, str | None, bytes]]:
    """(field name, filename or None, content) for each part of a multipart/form-data body."""
    boundary = ""
    for piece in content_type.split(";")[1:]:
        key, _, value = piece.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"')
    if not boundary:
        return []
    parts: list[tuple[str, str | None, bytes]] = []
    delimiter = b"--" + boundary.encode("latin-1")
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # closing delimiter
        chunk = chunk.removeprefix(b"\r\n")
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        content = content.removesuffix(b"\r\n")
        name, filename = "", None
        for line in head.decode("utf-8", "replace").split("\r\n"):
            header, _, value = line.partition(":")
            if header.strip().lower() != "content-disposition":
                continue
            for item in value.split(";")[1:]:
                k, _, v = item.strip().partition("=")
                if k == "name":
                    name = v.strip('"')
                elif k == "filename":
                    filename = v.strip('"')
        parts.append((name, filename, content))
    return parts


class FakeSlack:
    """A fake Slack Web API server. Starts on construction (unless ``start=False``).

    Directory data (``users``, ``channels``) may be edited directly; traffic is in ``calls``,
    ``uploads``, ``views`` and ``home_views``.
    """

    def __init__(
        self,
        *,
        team_id: str = "T1",
        team: str = "Acme",
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        app_id: str = "A1",
        start: bool = True,
    ) -> None:
        self.team_id = team_id
        self.team = team
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.calls: list[Call] = []
        self.users: dict[str, SlackUser] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, bytes] = {}  # file_id -> bytes POSTed to its upload URL
        self.files: dict[str, dict[str, Any]] = {}  # file_id -> {"id", "name", "length", ...}
        #: Files people shared (``add_file``): file_id -> Slack's file object, and its bytes.
        self.shared_files: dict[str, dict[str, Any]] = {}
        self.file_bytes: dict[str, bytes] = {}
        self._hidden_lengths: set[str] = set()
        #: False: the app lacks ``files:read``, and Slack redirects downloads to sign-in.
        self.files_read_granted = True
        self.views: dict[str, dict[str, Any]] = {}  # view id -> latest view (views.open/update)
        self.home_views: dict[str, dict[str, Any]] = {}  # user id -> latest published Home view
        self.history: dict[str, list[dict[str, Any]]] = {}  # channel -> messages posted there
        self.invalid_tokens: set[str] = set()  # tokens answered with invalid_auth
        #: Installs through OAuth; tokens issued per workspace (see fake_slack_oauth).
        self.oauth = FakeOAuth(app_id=app_id)
        self._failures: dict[str, deque[_Failure]] = {}
        self._cond = threading.Condition()
        self._counter = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._methods: dict[str, Callable[[dict[str, Any]], _Reply]] = {
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.history": self._conversations_history,
            "files.info": self._files_info,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
        }
        if start:
            self.start()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeSlack:
        """Bind 127.0.0.1:0 and serve in a daemon thread (no-op when already running)."""
        if self._server is not None:
            return self
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeSlack:{server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the server and free the port (idempotent)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeSlack is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/api/``: what ``WebClient(base_url=...)`` expects."""
        return f"{self.url}/api/"

    def client(self, token: str = "xoxb-test", **kwargs: Any) -> WebClient:
        """A real ``slack_sdk.WebClient`` pointed at this fake."""
        return WebClient(token=token, base_url=self.base_url, **kwargs)

    # ------------------------------------------------------------------ set-up

    def add_user(self, user: SlackUser) -> None:
        self.users[user.id] = user

    def add_channel(
        self, channel_id: str, name: str, *, is_member: bool = True, is_archived: bool = False
    ) -> None:
        self.channels[channel_id] = {
            "name": name,
            "is_member": is_member,
            "is_archived": is_archived,
        }

    def add_file(
        self,
        file_id: str,
        name: str,
        content: bytes,
        *,
        user: str,
        channel: str,
        filetype: str | None = None,
        mimetype: str | None = None,
        size: int | None = None,
        url: str | None = None,
        send_length: bool = True,
    ) -> dict[str, Any]:
        """A file ``user`` shared in ``channel``: ``files.info`` describes it (Slack's file
        object) and its ``url_private_download`` on this server serves ``content``.

        ``size`` overrides the size reported (a file object may be wrong); ``url`` replaces
        the download address; ``send_length=False`` serves the bytes without a
        Content-Length (read until the connection closes)."""
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else "text"
        filetype = filetype or extension
        default_mime = "text/csv" if filetype == "csv" else "text/plain"
        quoted = quote(name, safe="")
        private = f"{self.url}/files-pri/{self.team_id}-{file_id}/{quoted}"
        info = {
            "id": file_id,
            "created": int(time.time()),
            "timestamp": int(time.time()),
            "name": name,
            "title": name,
            "mimetype": mimetype or default_mime,
            "filetype": filetype,
            "pretty_type": filetype.upper(),
            "user": user,
            "user_team": self.team_id,
            "editable": False,
            "size": len(content) if size is None else size,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": False,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": private,
            "url_private_download": url
            or f"{self.url}/files-pri/{self.team_id}-{file_id}/download/{quoted}",
            "permalink": f"{self.url}/files/{user}/{file_id}/{quoted}",
            "channels": [channel] if channel.startswith("C") else [],
            "groups": [channel] if channel.startswith("G") else [],
            "ims": [channel] if channel.startswith("D") else [],
            "comments_count": 0,
        }
        self.shared_files[file_id] = info
        self.file_bytes[file_id] = content
        if not send_length:
            self._hidden_lengths.add(file_id)
        return info

    def response_url(self, key: str = "r1") -> str:
        """A URL on this server; posts to it are recorded as ``Call(method="response_url")``
        whose params are the JSON body plus ``params["_key"] == key``."""
        return f"{self.url}/response_url/{quote(key, safe='')}"

    def fail_next(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: float | None = None,
        count: int = 1,
    ) -> None:
        """Answer the next ``count`` requests to ``method`` (an API method, "response_url" or
        "upload") with a failure: HTTP ``status`` and ``{"ok": false, "error": error}``.

        ``error`` defaults to "ratelimited" for 429, else "internal_error". A 429 always carries
        ``Retry-After`` (``retry_after`` rounded up to whole seconds, as Slack sends and as
        slack_sdk's RateLimitErrorRetryHandler parses; default 1). Failures queue up in order.
        """
        with self._cond:
            queue = self._failures.setdefault(method, deque())
            for _ in range(count):
                queue.append(_Failure(error=error, status=status, retry_after=retry_after))

    def reset(self) -> None:
        """Forget traffic (calls, uploads, files, views, pending failures, counters).
        Directory data (users, channels, invalid_tokens) is kept."""
        with self._cond:
            self.calls.clear()
            self.uploads.clear()
            self.files.clear()
            self.views.clear()
            self.home_views.clear()
            self._failures.clear()
            self._counter = 0

    # ------------------------------------------------------------------ inspection

    def calls_to(self, method: str) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def last(self, method: str) -> Call:
        """The most recent call to ``method`` (AssertionError when there is none)."""
        found = self.calls_to(method)
        if not found:
            raise AssertionError(f"no {method} call; seen: {self.methods_called()}")
        return found[-1]

    def methods_called(self) -> list[str]:
        with self._cond:
            return [c.method for c in self.calls]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until at least ``count`` calls to ``method`` arrived; return all of them.
        Raises AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self.calls if c.method == method]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"waited {timeout}s for {count} {method} call(s), got {len(found)}; "
                        f"seen: {[c.method for c in self.calls]}"
                    )
                self._cond.wait(min(remaining, 0.05))

    # ------------------------------------------------------------------ request handling

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def _next_ts(self) -> str:
        """Like Slack's: the wall-clock second, made unique by a counter in the fraction."""
        return f"{int(time.time())}.{self._next():06d}"

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        return queue.popleft() if queue else None

    @staticmethod
    def _failure_reply(failure: _Failure, *, as_json: bool = True) -> _Reply:
        status = failure.status
        error = failure.error or ("ratelimited" if status == 429 else "internal_error")
        headers: dict[str, str] = {}
        retry_after = failure.retry_after
        if retry_after is None and status == 429:
            retry_after = 1
        if retry_after is not None:
            headers["Retry-After"] = str(math.ceil(retry_after))
        payload: Any = {"ok": False, "error": error} if as_json else error
        return _Reply(status, payload, headers)

    def _handle(
        self, http_method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> _Reply:
        content_type = headers.get("content-type", "")
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else None

        if path.startswith("/api/"):
            method = path[len("/api/") :]
            raw = self._parse_fields(query, content_type, body)
            if token is None and isinstance(raw.get("token"), str):
                token = raw["token"]
            kind = "api"
        elif path.startswith("/response_url/"):
            method = "response_url"
            key = unquote(path[len("/response_url/") :])
            try:
                decoded = json.loads(body or b"{}")
            except ValueError:
                decoded = {"_raw": body.decode("utf-8", "replace")}
            raw = dict(decoded) if isinstance(decoded, dict) else {"_body": decoded}
            raw["_key"] = key
            kind = "response_url"
        elif path.startswith("/files-pri/"):
            method = "download"
            raw = {"path": path}
            kind = "download"
        elif path.startswith("/upload/"):
            method = "upload"
            file_id = unquote(path[len("/upload/") :])
            raw = {"file_id": file_id}
            kind = "upload"
        else:
            return _Reply(404, "not found")

        with self._cond:
            call = Call(
                method=method,
                params=_decode_json_fields(raw),
                token=token,
                at=time.monotonic(),
                raw_params=raw,
                body=body,
                content_type=content_type,
                http_method=http_method,
                path=path,
                authorization=auth,
            )
            failure = self._take_failure(method)
            if failure is not None:
                reply = self._failure_reply(failure, as_json=kind == "api")
            elif kind == "api":
                reply = self._api(method, call)
            elif kind == "upload":
                reply = self._upload(call, content_type, body)
            elif kind == "download":
                reply = self._download(path, token)
            else:
                reply = _Reply(200, "ok")
            call.status = reply.status
            call.response = reply.payload
            self.calls.append(call)
            self._cond.notify_all()
        return reply

    @staticmethod
    def _parse_fields(query: str, content_type: str, body: bytes) -> dict[str, Any]:
        fields: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        ctype = content_type.split(";")[0].strip().lower()
        if ctype == "application/json":
            decoded = json.loads(body or b"{}")
            if isinstance(decoded, dict):
                fields.update(decoded)
        elif ctype == "multipart/form-data":
            for name, filename, content in _parse_multipart(body, content_type):
                if filename is None:
                    fields[name] = content.decode("utf-8", "replace")
                else:
                    fields[name] = content
        elif body:
            fields.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        return fields

    def _api(self, method: str, call: Call) -> _Reply:
        if method == "oauth.v2.access":  # client credentials, not a token
            return _Reply(200, self.oauth.access(call.params, call.authorization))
        handler = self._methods.get(method)
        if handler is None:
            return _err("unknown_method")
        if not call.token:
            return _err("not_authed")
        if call.token in self.invalid_tokens or self.oauth.refused(call.token):
            return _err("invalid_auth")
        if method == "auth.test":
            return self._auth_test_for(call.token)
        return handler(call.params)

    def _upload(self, call: Call, content_type: str, body: bytes) -> _Reply:
        file_id = call.params["file_id"]
        if file_id not in self.files:
            return _Reply(404, "file not found")
        data = body
        if content_type.split(";")[0].strip().lower() == "multipart/form-data":
            parts = _parse_multipart(body, content_type)
            with_name = [p for p in parts if p[1] is not None]
            chosen = (with_name or parts or [("", None, b"")])[0]
            data = chosen[2]
            if chosen[1] is not None:
                call.params["filename"] = chosen[1]
        self.uploads[file_id] = data
        self.files[file_id]["uploaded"] = True
        call.params["length"] = len(data)
        return _Reply(200, f"OK - {len(data)}")

    # ------------------------------------------------------------------ helpers for methods

    def _user_json(self, user: SlackUser) -> dict[str, Any]:
        real_name = user.name or user.id
        profile: dict[str, Any] = {"real_name": real_name, "display_name": user.name}
        if user.email is not None:
            profile["email"] = user.email
        return {
            "id": user.id,
            "team_id": user.team_id,
            "name": user.name,
            "real_name": real_name,
            "deleted": user.deleted,
            "is_admin": user.is_admin,
            "is_owner": user.is_owner,
            "is_bot": False,
            "tz": user.tz,
            "profile": profile,
        }

    def _resolve_channel(self, channel: Any) -> tuple[str | None, str | None]:
        """(channel id to report, error) for posting into ``channel``."""
        if not isinstance(channel, str) or not channel:
            return None, "channel_not_found"
        if channel[0] in "UW":  # a user id: Slack posts into the app's DM with that user
            return "D" + channel, None
        if channel[0] == "D":
            return channel, None
        info = self.channels.get(channel)
        if info is None:
            name = channel.removeprefix("#")
            matches = [cid for cid, c in self.channels.items() if c["name"] == name]
            if not matches:
                return None, "channel_not_found"
            channel, info = matches[0], self.channels[matches[0]]
        if info["is_archived"]:
            return None, "is_archived"
        if not info["is_member"]:
            return None, "not_in_channel"
        return channel, None

    def _message_json(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": params.get("text") or "",
            "ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if params.get(key) is not None:
                message[key] = params[key]
        return message

    def _view_json(self, view: Any, view_id: str, *, default_type: str) -> dict[str, Any]:
        view = dict(view) if isinstance(view, dict) else {}
        n = self._next()
        out: dict[str, Any] = {
            "id": view_id,
            "team_id": self.team_id,
            "type": default_type,
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "state": {"values": {}},
            "hash": f"{_TS_BASE + n}.h{n}",
            "clear_on_close": False,
            "notify_on_close": False,
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "external_id": "",
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        view.pop("hash", None)
        out.update(view)
        out["id"] = view_id
        return out

    # ------------------------------------------------------------------ methods

    def _auth_test(self, params: dict[str, Any]) -> _Reply:
        return _ok(
            url=f"https://{self.team.lower()}.slack.com/",
            team=self.team,
            user="stackspend",
            team_id=self.team_id,
            user_id=self.bot_user_id,
            bot_id=self.bot_id,
            is_enterprise_install=False,
        )

    def _auth_test_for(self, token: str) -> _Reply:
        """auth.test for an OAuth-issued token names its own workspace."""
        grant = self.oauth.grant_of(token)
        if grant is None:
            return self._auth_test({})
        return _ok(
            url=f"https://{(grant.team_name or 'org').lower()}.slack.com/",
            team=grant.team_name,
            user="stackspend",
            team_id=grant.team_id or grant.enterprise_id,
            user_id=grant.bot_user_id,
            bot_id=grant.bot_id,
            enterprise_id=grant.enterprise_id,
            is_enterprise_install=grant.is_enterprise_install,
        )

    def _users_info(self, params: dict[str, Any]) -> _Reply:
        user = self.users.get(params.get("user") or "")
        if user is None:
            return _err("user_not_found")
        return _ok(user=self._user_json(user))

    def _users_lookup_by_email(self, params: dict[str, Any]) -> _Reply:
        email = params.get("email")
        if not email:
            return _err("invalid_arguments")
        for user in self.users.values():
            if user.email == email:  # exact match, deleted users included (deleted: true)
                return _ok(user=self._user_json(user))
        return _err("users_not_found")

    def _views_open(self, params: dict[str, Any]) -> _Reply:
        trigger_id = params.get("trigger_id")
        if not trigger_id:
            return _err("invalid_arguments")
        if trigger_id == "expired":
            return _err("expired_trigger_id")
        if trigger_id == "exchanged":
            return _err("exchanged_trigger_id")
        if not isinstance(params.get("view"), dict):
            return _err("invalid_arguments")
        view_id = f"V{1000 + self._next()}"
        view = self._view_json(params["view"], view_id, default_type="modal")
        self.views[view_id] = view
        return _ok(view=view)

    def _views_update(self, params: dict[str, Any]) -> _Reply:
        if not isinstance(params.get("view"), dict):
            return _err("invalid_arguments")
        view_id = params.get("view_id")
        external_id = params.get("external_id")
        if not view_id and external_id:
            view_id = next(
                (vid for vid, v in self.views.items() if v.get("external_id") == external_id),
                None,
            )
            if view_id is None:
                return _err("not_found")
        if not view_id:
            return _err("invalid_arguments")
        previous = self.views.get(view_id)
        wanted_hash = params.get("hash")
        if previous is not None and wanted_hash and wanted_hash != previous["hash"]:
            return _err("hash_conflict")
        view = self._view_json(params["view"], view_id, default_type="modal")
        if previous is not None:
            view["root_view_id"] = previous.get("root_view_id", view_id)
        self.views[view_id] = view
        return _ok(view=view)

    def _views_publish(self, params: dict[str, Any]) -> _Reply:
        user_id = params.get("user_id")
        if not user_id or not isinstance(params.get("view"), dict):
            return _err("invalid_arguments")
        previous = self.home_views.get(user_id)
        wanted_hash = params.get("hash")
        if previous is not None and wanted_hash and wanted_hash != previous["hash"]:
            return _err("hash_conflict")
        view_id = previous["id"] if previous is not None else f"V{1000 + self._next()}"
        view = self._view_json(params["view"], view_id, default_type="home")
        self.home_views[user_id] = view
        return _ok(view=view)

    def _chat_post_message(self, params: dict[str, Any]) -> _Reply:
        channel, error = self._resolve_channel(params.get("channel"))
        if error:
            return _err(error)
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            return _err("no_text")
        ts = self._next_ts()
        message = self._message_json(params, ts)
        self.history.setdefault(str(channel), []).append(message)
        return _ok(channel=channel, ts=ts, message=message)

    def _conversations_history(self, params: dict[str, Any]) -> _Reply:
        """Messages the bot posted to a channel, newest first (``oldest`` is honoured)."""
        channel, error = self._resolve_channel(params.get("channel"))
        if error:
            return _err(error)
        oldest = float(params.get("oldest") or 0)
        messages = [m for m in self.history.get(str(channel), []) if float(m["ts"]) >= oldest]
        return _ok(messages=list(reversed(messages)), has_more=False)

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> _Reply:
        _channel, error = self._resolve_channel(params.get("channel"))
        if error:
            return _err(error)
        if not params.get("user"):
            return _err("user_not_found")
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            return _err("no_text")
        return _ok(message_ts=self._next_ts())

    def _chat_update(self, params: dict[str, Any]) -> _Reply:
        channel, error = self._resolve_channel(params.get("channel"))
        if error:
            return _err(error)
        ts = params.get("ts")
        if not ts:
            return _err("message_not_found")
        message = self._message_json(params, ts)
        return _ok(channel=channel, ts=ts, text=message["text"], message=message)

    def _conversations_open(self, params: dict[str, Any]) -> _Reply:
        channel = params.get("channel")
        if isinstance(channel, str) and channel.startswith("D"):
            return _ok(channel={"id": channel}, no_op=True, already_open=True)
        users = params.get("users")
        if isinstance(users, list):
            users = ",".join(users)
        ids = [u.strip() for u in (users or "").split(",") if u.strip()]
        if not ids:
            return _err("users_list_not_supplied")
        for uid in ids:
            if uid == self.bot_user_id:
                return _err("cannot_dm_bot")
            user = self.users.get(uid)
            if user is None:
                return _err("user_not_found")
            if user.deleted:
                return _err("user_disabled")
        if len(ids) == 1:
            return _ok(channel={"id": "D" + ids[0]}, no_op=False, already_open=False)
        return _ok(channel={"id": "G" + "".join(sorted(ids))}, no_op=False, already_open=False)

    def _conversations_info(self, params: dict[str, Any]) -> _Reply:
        channel = params.get("channel") or ""
        info = self.channels.get(channel)
        if info is not None:
            return _ok(
                channel={
                    "id": channel,
                    "name": info["name"],
                    "is_channel": True,
                    "is_im": False,
                    "is_member": info["is_member"],
                    "is_archived": info["is_archived"],
                }
            )
        if channel.startswith("D"):
            return _ok(channel={"id": channel, "is_im": True, "user": channel[1:]})
        return _err("channel_not_found")

    def _files_info(self, params: dict[str, Any]) -> _Reply:
        info = self.shared_files.get(str(params.get("file") or ""))
        if info is None:
            return _err("file_not_found")
        return _ok(file=info, comments=[], response_metadata={"next_cursor": ""})

    def _download(self, path: str, token: str | None) -> _Reply:
        """A file's bytes for a valid bearer token; else Slack's redirect to sign in."""
        if not token or token in self.invalid_tokens or not self.files_read_granted:
            return _Reply(302, "", {"Location": f"{self.url}/signin?redir={quote(path)}"})
        for file_id, info in self.shared_files.items():
            if urlsplit(info["url_private_download"]).path == path:
                headers = {"Content-Type": info["mimetype"]}
                if file_id in self._hidden_lengths:
                    headers["X-Omit-Length"] = "1"
                return _Reply(200, self.file_bytes[file_id], headers)
        return _Reply(404, "file not found")

    def _files_get_upload_url_external(self, params: dict[str, Any]) -> _Reply:
        filename = params.get("filename")
        length = params.get("length")
        if not filename or length in (None, ""):
            return _err("invalid_arguments")
        file_id = f"F{122 + self._next()}"  # F123, F124, ... after a reset
        self.files[file_id] = {"id": file_id, "name": filename, "length": int(length)}
        return _ok(upload_url=f"{self.url}/upload/{file_id}", file_id=file_id)

    def _files_complete_upload_external(self, params: dict[str, Any]) -> _Reply:
        files = params.get("files")
        if not isinstance(files, list) or not files:
            return _err("invalid_arguments")
        channel_id = params.get("channel_id")
        if channel_id:
            _channel, error = self._resolve_channel(channel_id)
            if error:
                return _err(error)
        out = []
        for item in files:
            meta = self.files.get(item.get("id", "")) if isinstance(item, dict) else None
            if meta is None or item["id"] not in self.uploads:
                return _err("file_not_found")
            title = item.get("title") or meta["name"]
            meta["title"] = title
            out.append(
                {
                    "id": meta["id"],
                    "title": title,
                    "name": meta["name"],
                    "size": len(self.uploads[meta["id"]]),
                }
            )
        return _ok(files=out)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeSlack
    server_version = "FakeSlack/1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            reply = self.fake._handle(self.command, parts.path, parts.query, headers, body)
        except Exception as exc:  # a bug in the fake: make it visible to the client
            reply = _Reply(500, {"ok": False, "error": f"fake_slack_bug: {exc!r}"})
        headers = dict(reply.headers)
        omit_length = headers.pop("X-Omit-Length", None) is not None
        if isinstance(reply.payload, bytes):
            data = reply.payload
            ctype = headers.pop("Content-Type", "application/octet-stream")
        elif isinstance(reply.payload, str):
            data = reply.payload.encode("utf-8")
            ctype = "text/plain; charset=utf-8"
        else:
            data = json.dumps(reply.payload).encode("utf-8")
            ctype = "application/json; charset=utf-8"
        try:
            phrase = HTTPStatus(reply.status).phrase
        except ValueError:
            phrase = "Unknown"
        self.send_response(reply.status, phrase)
        self.send_header("Content-Type", ctype)
        if omit_length:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_POST = _serve
    do_GET = _serve
