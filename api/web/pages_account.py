"""Sign-in with a named API key, and sign-out (issue 23 point 8): see api.web.session."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.web.render import PageDep, WebRoute
from api.web.session import SESSION_COOKIE, key_identity

router = APIRouter(include_in_schema=False, route_class=WebRoute)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another host."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/signin")
async def signin_page(page: PageDep, next: str | None = None) -> Response:
    return page.render("signin.html", next=_safe_next(next), failed=False)


@router.post("/signin")
async def signin(request: Request, page: PageDep) -> Response:
    await page.check_csrf()
    form = await request.form()
    key = form.get("key")
    target = _safe_next(str(form.get("next") or "/"))
    keys = page.state.settings.keys
    identity = key_identity(keys, key.strip()) if isinstance(key, str) and key.strip() else None
    if not keys.configured:
        return page.redirect(target)
    if identity is None:
        return page.render("signin.html", status=401, next=target, failed=True)
    name, _roles, fingerprint = identity
    response = page.redirect(target)
    page.set_session(response, page.sessions.signed_in(name, fingerprint))
    return response


@router.post("/signout")
async def signout(page: PageDep) -> Response:
    await page.check_csrf()
    response = page.redirect("/signin")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
