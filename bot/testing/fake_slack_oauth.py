"""OAuth for the fake Slack: ``oauth.v2.access`` (codes and refresh tokens), tokens per workspace.

A test grants an install (:meth:`FakeOAuth.grant` returns the ``code`` Slack would put on
the redirect), the app exchanges it, and every token the fake issued then answers for its
own workspace: ``auth.test`` names that team, and :attr:`Call.token` shows which
workspace's token a call used. With ``strict`` on, a token the fake never issued, or one
revoked (:meth:`FakeOAuth.revoke`), gets ``invalid_auth``.

With ``rotation`` on, installs get a refresh token and an ``expires_in``; a refresh
(``grant_type=refresh_token``) issues a new pair and revokes the old refresh token, as
Slack does: a refresh token used twice gets ``invalid_refresh_token``.
"""

from __future__ import annotations

import base64
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

#: What the fake's OAuth app is called; configure the app under test with these.
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "fake-client-secret"
SCOPES = "commands,chat:write"


@dataclass(frozen=True)
class Grant:
    """One workspace's (or, org-wide, one enterprise's) install of the app."""

    team_id: str | None
    team_name: str = ""
    enterprise_id: str | None = None
    enterprise_name: str = ""
    is_enterprise_install: bool = False
    user_id: str = "UINSTALLER"
    bot_user_id: str = "UBOT"
    bot_id: str = "BBOT"


@dataclass
class FakeOAuth:
    app_id: str = "A1"
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    #: Issue refresh tokens and expiring access tokens.
    rotation: bool = False
    expires_in: int = 43200
    #: Refuse tokens this fake never issued (off: any token is some workspace's, as before).
    strict: bool = False
    tokens: dict[str, Grant] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    _codes: dict[str, Grant] = field(default_factory=dict)
    _refresh: dict[str, Grant] = field(default_factory=dict)
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def grant(self, grant: Grant) -> str:
        """The ``code`` of an install that the user approved."""
        with self._lock:
            code = f"code-{next(self._serial)}"
            self._codes[code] = grant
        return code

    def revoke(self, *, team_id: str | None, enterprise_id: str | None = None) -> None:
        """Revoke every token of an install (what an uninstall does on Slack's side)."""
        with self._lock:
            for token, grant in self.tokens.items():
                if grant.team_id == team_id and grant.enterprise_id == enterprise_id:
                    self.revoked.add(token)

    def tokens_of(self, team_id: str | None) -> list[str]:
        return [token for token, grant in self.tokens.items() if grant.team_id == team_id]

    def refused(self, token: str) -> bool:
        return token in self.revoked or (self.strict and token not in self.tokens)

    def grant_of(self, token: str | None) -> Grant | None:
        return self.tokens.get(token or "")

    def access(self, params: dict[str, Any], authorization: str) -> dict[str, Any]:
        """The JSON answer to ``oauth.v2.access``."""
        if not self._client_ok(params, authorization):
            return {"ok": False, "error": "invalid_client_id"}
        with self._lock:
            if params.get("grant_type") == "refresh_token":
                grant = self._refresh.pop(params.get("refresh_token") or "", None)
                if grant is None:
                    return {"ok": False, "error": "invalid_refresh_token"}
                return self._issue(grant, refreshed=True)
            grant = self._codes.pop(params.get("code") or "", None)
            if grant is None:
                return {"ok": False, "error": "invalid_code"}
            return self._issue(grant, refreshed=False)

    def _client_ok(self, params: dict[str, Any], authorization: str) -> bool:
        client_id, client_secret = params.get("client_id"), params.get("client_secret")
        if authorization.lower().startswith("basic "):
            decoded = base64.b64decode(authorization[6:].strip()).decode("utf-8")
            client_id, _, client_secret = decoded.partition(":")
        return client_id == self.client_id and client_secret == self.client_secret

    def _issue(self, grant: Grant, *, refreshed: bool) -> dict[str, Any]:
        n = next(self._serial)
        owner = grant.team_id or grant.enterprise_id or "X"
        token = f"xoxb-{owner}-{n}"
        self.tokens[token] = grant
        answer: dict[str, Any] = {
            "ok": True,
            "app_id": self.app_id,
            "token_type": "bot",
            "access_token": token,
            "scope": SCOPES,
            "bot_user_id": grant.bot_user_id,
        }
        if self.rotation:
            refresh = f"xoxe-1-{owner}-{n}"
            self._refresh[refresh] = grant
            answer.update(refresh_token=refresh, expires_in=self.expires_in)
        if refreshed:
            return answer
        answer.update(
            authed_user={"id": grant.user_id},
            team={"id": grant.team_id, "name": grant.team_name} if grant.team_id else None,
            enterprise=(
                {"id": grant.enterprise_id, "name": grant.enterprise_name}
                if grant.enterprise_id
                else None
            ),
            is_enterprise_install=grant.is_enterprise_install,
        )
        return answer
