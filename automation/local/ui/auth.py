"""Who may see the web UI: the login routes, and the gate in front of every other /ui path.

``POST /ui/token`` (with the workspace key as a bearer token, what ``cmlops local ui`` sends)
returns a one-time login link; ``GET /ui/login?token=...`` spends it and sets the session cookie
(HttpOnly, SameSite=Strict); ``POST /ui/login`` takes the workspace key from a form instead.
Everything else under ``/ui`` answers 401 without a valid cookie: pages with the login form, the
page's JSON calls with a JSON error. MLflow's UI at ``/mlflow`` checks the same cookie itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from automation.local.api.common import workspace
from automation.local.state.keys import keys_match
from automation.local.state.sessions import SESSION_TTL, TOKEN_TTL, UiSessions, cookie_value
from automation.local.ui.templates import render

if TYPE_CHECKING:
    from automation.local.workspace import Workspace

UI = "/ui"
HOME = "/ui/"
OPEN_PATHS = {"/ui/login", "/ui/token"}
MAX_FORM = 4096
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

router = APIRouter(include_in_schema=False)


def login_page(message: str = "", status: int = 200) -> HTMLResponse:
    return HTMLResponse(render("login.html", message=message), status_code=status, headers=SECURITY_HEADERS)


def _with_cookie(response: Response, ws: Workspace, value: str) -> Response:
    response.set_cookie(
        ws.ui_cookie, value, max_age=int(SESSION_TTL), path="/", httponly=True, samesite="strict"
    )
    return response


class UiGate:
    """ASGI middleware: /ui paths other than the login routes need a valid session cookie."""

    def __init__(self, app: ASGIApp, sessions: UiSessions, cookie: str) -> None:
        self.app = app
        self.sessions = sessions
        self.cookie = cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            guarded = (path == UI or path.startswith(HOME)) and path not in OPEN_PATHS
            if guarded and not self.sessions.valid(cookie_value(scope["headers"], self.cookie)):
                response: Response
                if path.startswith("/ui/api/"):
                    body = {
                        "error": "not logged in: open the link `cmlops local ui` prints, or log in at /ui/login"
                    }
                    response = JSONResponse(body, status_code=401, headers=SECURITY_HEADERS)
                else:
                    response = login_page("Log in to see this workspace.", status=401)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


@router.get("/")
def root() -> RedirectResponse:
    """A browser opening the workspace's URL lands on the UI (its login page without a session)."""
    return RedirectResponse(HOME, status_code=307)


@router.get("/ui/login", response_model=None)
def login_with_token(request: Request, token: str = "") -> Response:
    ws = workspace(request)
    if not token:
        return login_page()
    value = ws.sessions.redeem(token)
    if value is None:
        return login_page(
            "This login link was used already or has expired: run `cmlops local ui` for a new one, "
            "or enter the workspace key.",
            status=401,
        )
    # A page, not a redirect: the cookie is then sent on a same-site navigation (SameSite=Strict).
    page = HTMLResponse(render("welcome.html"), headers=SECURITY_HEADERS)
    return _with_cookie(page, ws, value)


@router.post("/ui/login", response_model=None)
async def login_with_key(request: Request) -> Response:
    ws = workspace(request)
    body = await request.body()
    if len(body) > MAX_FORM:
        return login_page("The form is too large.", status=400)
    key = (parse_qs(body.decode("utf-8", "replace")).get("key") or [""])[0]
    value = ws.sessions.login(key)
    if value is None:
        return login_page(f"Wrong workspace key (it is in {ws.paths.api_key}).", status=401)
    return _with_cookie(RedirectResponse(HOME, status_code=303), ws, value)


@router.post("/ui/logout")
def logout(request: Request) -> Response:
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(workspace(request).ui_cookie, path="/")
    return response


@router.post("/ui/token")
def issue_token(request: Request) -> JSONResponse:
    """A one-time login link, for whoever holds the workspace key (``cmlops local ui``)."""
    ws = workspace(request)
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not keys_match(key.strip(), ws.api_key):
        return JSONResponse({"error": "send 'Authorization: Bearer <workspace key>'"}, status_code=401)
    token = ws.sessions.issue_token()
    body: dict[str, Any] = {"login_url": f"{ws.url}/ui/login?token={token}", "expires_in": int(TOKEN_TTL)}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
