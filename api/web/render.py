"""Rendering a page: the Jinja2 environment, the page's context and its cookies.

Every route of the page takes a ``PageDep``: the viewer (api.web.session), the language
(api.web.i18n) and the service state. ``page.render(name, **values)`` fills the template with those
and the helpers every template uses, and sets the cookies that must be (re)issued. ``page.need(role)``
is how a route enforces what its page only offers: the server refuses what the role may not do, with
the same roles the API uses (``submitter`` evaluates and records, ``auditor`` reads the ledger,
``rules_admin`` or ``auditor`` reads the rules).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.http.deps import LANGUAGES, ServiceState, get_state
from api.web import labels
from api.web.forms import field_id, path_words
from api.web.i18n import HTML_LANG, LANG_COOKIE, LANGUAGE_NAMES, format_number, gettext_callables, page_language
from api.web.session import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, Sessions, Viewer, csrf_ok, secure_cookie
from engine.errors import BaygateError, CouldNotFinish

TEMPLATES = Path(__file__).parent / "templates"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.newstyle_gettext = True  # type: ignore[attr-defined]  # set by the i18n extension
environment.globals["labels"] = labels
environment.globals["label"] = labels.label
environment.globals["LANGUAGES"] = LANGUAGES
environment.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
environment.globals["fid"] = field_id
environment.globals["path_words"] = path_words


def pick(values: Any, path: str) -> Any:
    """The value at a dotted path of the form's values (``data.0.subjects``); None when absent."""
    node = values
    for part in path.split("."):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


environment.globals["pick"] = pick


CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                           "script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                           "base-uri 'none'")
"""Every page tells the browser to fetch nothing from another host, run no inline script, and not be
framed (issue 23 point 9): the rule holds even where a vendored asset would reach out on its own.
Inline styles are allowed: htmx adds one for its request indicator."""


class PageError(Exception):
    """A page that cannot be shown: rendered as an error page with this status."""

    def __init__(self, status: int, message: str, **values: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.values = values


class WebRoute(APIRoute):
    """The page's routes: an error of the engine or the ledger (a database that cannot be reached, a
    reference two exporters use) is shown as a page in the person's language, not as the API's JSON
    problem. Only the page's routers use it; the API's routes are untouched."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except BaygateError as exc:
                status = int(getattr(exc, "http_status", 0) or (503 if isinstance(exc, CouldNotFinish) else 422))
                raise PageError(status, str(exc)) from exc

        return page_handler


@dataclass
class Page:
    request: Request
    state: ServiceState
    sessions: Sessions
    viewer: Viewer
    lang: str
    issue_session: dict[str, Any] | None
    remember_lang: bool
    cookies: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    # --------------------------------------------------------------- access

    def need(self, role: str, *alternatives: str) -> None:
        """Refuse (401 to sign in, 403 for the wrong role) unless the viewer holds one of the roles."""
        if not self.viewer.signed_in:
            raise PageError(401, "sign in first")
        if not any(self.viewer.may(r) for r in (role, *alternatives)):
            raise PageError(403, "forbidden", role=" / ".join((role, *alternatives)))

    async def check_csrf(self) -> None:
        """Every request that changes anything carries the session's token (form field or header)."""
        presented = self.request.headers.get(CSRF_HEADER)
        if presented is None:
            form = await self.request.form()
            value = form.get(CSRF_FIELD)
            presented = value if isinstance(value, str) else None
        if not csrf_ok(self.viewer, presented):
            raise PageError(403, "csrf")

    # --------------------------------------------------------------- output

    def t(self, message: str, **values: Any) -> str:
        return gettext_callables(self.lang)["_"](message, **values)

    def url_with(self, **changes: Any) -> str:
        """This page's URL with some query parameters changed (None removes one)."""
        params = dict(self.request.query_params)
        for key, value in changes.items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = str(value)
        query = urlencode(params)
        return self.request.url.path + (f"?{query}" if query else "")

    def context(self, **values: Any) -> dict[str, Any]:
        callables = gettext_callables(self.lang)
        lang = self.lang
        return {
            **callables,
            "page": self,
            "viewer": self.viewer,
            "lang": lang,
            "html_lang": HTML_LANG[lang],
            "csrf_field": CSRF_FIELD,
            "n": lambda value: format_number(value, lang),
            "msg": lambda messages: _message(messages, lang),
            "today": dt.date.today(),
            "request_path": self.request.url.path,
            **values,
        }

    def render(self, template: str, status: int = 200, **values: Any) -> Response:
        body = environment.get_template(template).render(self.context(**values))
        response = HTMLResponse(body, status_code=status,
                                headers={"Content-Language": self.lang, "Cache-Control": "no-store"})
        return self.finish(response)

    def finish(self, response: Response) -> Response:
        """Set the cookies this request must set (session, language) on any response."""
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        if self.issue_session is not None:
            self.set_session(response, self.issue_session)
        if self.remember_lang:
            response.set_cookie(LANG_COOKIE, self.lang, max_age=365 * 86400, samesite="strict",
                                secure=secure_cookie(self.request.url.scheme))
        return response

    def set_session(self, response: Response, data: dict[str, Any]) -> None:
        response.set_cookie(SESSION_COOKIE, self.sessions.dumps(data), httponly=True, samesite="strict",
                            secure=secure_cookie(self.request.url.scheme), path="/")

    def redirect(self, url: str) -> Response:
        return self.finish(RedirectResponse(url, status_code=303))


def _message(messages: Any, lang: str) -> str:
    """A three-language text of a decision (a dict as stored, or the model)."""
    if messages is None:
        return ""
    if isinstance(messages, dict):
        return str(messages.get(lang) or messages.get("en") or "")
    return str(messages.get(lang))


async def page_of_request(request: Request) -> Page:
    """The page being answered (its session, viewer and language): the dependency behind ``PageDep``,
    and what the error handler of api/web/mount.py renders an error page with."""
    state = get_state(request)
    sessions: Sessions = request.app.state.web_sessions
    viewer, issue = sessions.read(request.cookies.get(SESSION_COOKIE), state.settings.keys)
    query_lang = request.query_params.get("lang")
    lang = page_language(query_lang, request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    return Page(request, state, sessions, viewer, lang, issue, remember_lang=query_lang in LANGUAGES)


PageDep = Annotated[Page, Depends(page_of_request)]
