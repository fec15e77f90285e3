"""The web server: ``create_app(instance, workspace=None, *, token=None)`` and ``serve``.

Security rules, all enforced here:

* It listens on 127.0.0.1 unless told otherwise, and refuses any other address without a
  token (``webserver: {token: ...}`` in tocsin.yaml, ``{env: NAME}`` allowed).
* With a token, every mutating request needs it: API calls as ``Authorization: Bearer <token>``,
  browser forms through the ``tocsin_auth`` cookie that ``/login`` sets.
* API POSTs must be JSON (``Content-Type: application/json``) or carry a bearer token, so a
  cross-site page cannot forge them; HTML form posts carry a CSRF token equal to the
  ``tocsin_csrf`` cookie (double submit).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from tocsin.errors import ConfigError
from tocsin.web.service import Service, WebError
from tocsin.web.text import bad_params

CSRF_COOKIE = "tocsin_csrf"
CSRF_FIELD = "csrf_token"
AUTH_COOKIE = "tocsin_auth"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3000
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_STATIC = os.path.join(os.path.dirname(__file__), "static")


def resolve_token(value: Any) -> str | None:
    """The token from a setting: a string, ``{"env": NAME}``, or None.

    Raises:
        ConfigError: the value has another shape, or names an unset environment variable.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"env"} and isinstance(value["env"], str):
        token = os.environ.get(value["env"])
        if not token:
            raise ConfigError(
                f"webserver.token reads the environment variable {value['env']!r}, which is "
                "not set (or empty). Set it, or put the token itself in tocsin.yaml."
            )
        return token
    raise ConfigError(
        f"webserver.token must be a string or {{env: NAME}}, got {value!r}. "
        "Example: webserver: {token: {env: TOCSIN_WEB_TOKEN}}"
    )


def token_from_instance(instance: Any) -> str | None:
    settings = getattr(instance, "settings", None) or {}
    web = settings.get("webserver") or {}
    return resolve_token(web.get("token") if isinstance(web, dict) else None)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond loopback without a token.

    Raises:
        ConfigError: ``host`` is not a loopback address and no token is configured.
    """
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"Refusing to serve the tocsin web UI on {host!r} without a token: anyone who can "
            "reach it could start sensors and launch runs. Set webserver: {token: {env: "
            "TOCSIN_WEB_TOKEN}} in tocsin.yaml (or pass --token), or bind to 127.0.0.1."
        )


def token_matches(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


class SecurityMiddleware:
    """Token, JSON-only API mutations and CSRF, before any route runs."""

    def __init__(self, app: ASGIApp, token: str | None):
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        problem = _check_text(request) or await self._check(request)
        if problem is not None:
            await problem(scope, receive, send)
            return
        await self.app(scope, _replay(scope, receive), send)

    async def _check(self, request: Request) -> Response | None:
        if request.method in _SAFE_METHODS or request.url.path == "/login":
            return None
        if is_api(request):
            return self._check_api(request)
        return await self._check_form(request)

    def _check_api(self, request: Request) -> Response | None:
        given = bearer(request)
        if self.token is not None and not token_matches(given, self.token):
            what = "is missing" if given is None else "does not match"
            return error_json(
                401,
                f"The Authorization header {what}: this server needs "
                "'Authorization: Bearer <token>' (webserver.token in tocsin.yaml) for changes.",
            )
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        # A cross-site page can only POST (PUT and DELETE need a CORS preflight, which this
        # server never grants), and only as a form or text: JSON POSTs are safe.
        if request.method == "POST" and given is None and content_type != "application/json":
            return error_json(
                415,
                "Send changes to the API as JSON (Content-Type: application/json), got "
                f"{content_type or 'no content type'!r}.",
            )
        return None

    async def _check_form(self, request: Request) -> Response | None:
        if self.token is not None:
            given = bearer(request) or request.cookies.get(AUTH_COOKIE)
            if not token_matches(given, self.token):
                return error_page(401, "Log in with the server's token first (/login).")
        form = await read_form(request)
        cookie = request.cookies.get(CSRF_COOKIE)
        sent = form.get(CSRF_FIELD)
        if not cookie or not sent or not hmac.compare_digest(cookie, sent):
            return error_page(
                403,
                "The form's CSRF token is missing or does not match its cookie. Reload the page "
                "and submit the form again.",
            )
        bad = bad_params(form.items(), "the form")
        if bad is not None:
            return error_page(400, f"{bad[0].upper()}{bad[1:]}; send text without it.")
        return None


def _check_text(request: Request) -> Response | None:
    """400 for a path or query string holding text that cannot be stored (see web/text.py)."""
    bad = bad_params([("path", request.url.path)], "the URL")
    bad = bad or bad_params(request.query_params.multi_items(), "the query string")
    if bad is None:
        return None
    message = f"{bad[0].upper()}{bad[1:]}; send text without it."
    return error_json(400, message) if is_api(request) else error_page(400, message)


def _replay(scope: Scope, receive: Receive) -> Receive:
    """A receive that hands the app the body the middleware already read (if it did)."""
    body = scope.get("tocsin.body")
    if body is None:
        return receive
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form body as a dict (last value wins); cached on the request."""
    cached = request.scope.get("tocsin.form")
    if cached is not None:
        return cached
    from urllib.parse import parse_qsl

    raw = await request.body()
    request.scope["tocsin.body"] = raw
    body = raw.decode("utf-8", errors="replace")
    form = dict(parse_qsl(body, keep_blank_values=True))
    request.scope["tocsin.form"] = form
    return form


def error_json(status: int, message: str, detail: Any = None) -> JSONResponse:
    return JSONResponse({"error": message, "detail": detail}, status_code=status)


def error_page(status: int, message: str) -> Response:
    from html import escape

    body = (
        "<!doctype html><html><head><title>tocsin: error</title>"
        '<link rel="stylesheet" href="/static/tocsin.css"></head><body><main>'
        f"<h1>{status}</h1><p class=error>{escape(message)}</p>"
        '<p><a href="/">Back to the overview</a></p></main></body></html>'
    )
    return Response(body, status_code=status, media_type="text/html")


async def _web_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WebError)
    if is_api(request):
        return error_json(exc.status, exc.message, exc.detail)
    return error_page(exc.status, exc.message)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    detail = getattr(exc, "detail", "")
    if is_api(request):
        return error_json(status, str(detail) or "Request failed.", None)
    return error_page(status, str(detail))


def create_app(
    instance: Any,
    workspace: Any = None,
    *,
    token: str | None = None,
    host: str = DEFAULT_HOST,
) -> Starlette:
    """The web UI and JSON API over ``instance`` (and the code locations of ``workspace``).

    Args:
        instance: the ``DagsterInstance`` to read and change.
        workspace: code locations (a list, or an object with ``locations``) to list, preview
            and tick instigators from; None shows what storage knows.
        token: required for changes; defaults to ``webserver.token`` of the instance.
        host: where the app will listen; anything but loopback needs a token.

    Raises:
        ConfigError: a non-loopback host without a token, or a malformed token setting.
    """
    from tocsin.web import api, pages

    token = resolve_token(token) if token is not None else token_from_instance(instance)
    check_bind(host, token)
    routes = [
        *api.routes(),
        *pages.routes(),
        Mount("/static", app=StaticFiles(directory=_STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityMiddleware, token=token)],
        exception_handlers={WebError: _web_error, 404: _http_error, 405: _http_error},
    )
    app.state.instance = instance
    app.state.service = Service(instance, workspace)
    app.state.token = token
    app.state.wake_subscribers = []

    def on_wake(names: list[str]) -> None:
        for callback in list(app.state.wake_subscribers):
            callback(names)

    app.state.on_wake = on_wake
    app.state.subscribe_wake = app.state.wake_subscribers.append
    return app


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def serve(
    instance: Any,
    workspace: Any = None,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    token: str | None = None,
    on_wake: Callable[[list[str]], None] | None = None,
) -> None:
    """Serve the web UI with uvicorn until interrupted.

    Raises:
        ConfigError: a non-loopback host without a token.
    """
    import uvicorn

    app = create_app(instance, workspace, token=token, host=host)
    if on_wake is not None:
        app.state.subscribe_wake(on_wake)
    uvicorn.run(app, host=host, port=port, log_level="info")
