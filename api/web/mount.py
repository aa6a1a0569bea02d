"""Adding the web page to the service's app (see the package's docstring).

``install(app)`` adds its routes and nothing else: no middleware, so the API's requests (the dry-run
lane of ``POST /v1/evaluate`` first) cost exactly what they cost without it.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from api.web.i18n import N_
from api.web.render import PageError, page_of_request
from api.web.session import Sessions, session_secret

STATIC = Path(__file__).parent / "static"

ERROR_TITLES = {401: N_("Sign in first"), 403: N_("Not allowed"), 404: N_("Not found"), 409: N_("Conflict"),
                422: N_("Cannot read that"), 503: N_("The ledger cannot be reached")}


def install(app: FastAPI) -> None:
    from api.web import docs, pages_account, pages_assess, pages_ledger, pages_rules, pages_screen

    app.state.web_sessions = Sessions(session_secret(os.environ))
    for module in (docs, pages_account, pages_assess, pages_screen, pages_ledger, pages_rules):
        app.include_router(module.router)
    app.mount("/-/static", StaticFiles(directory=STATIC), name="web-static")
    app.add_exception_handler(PageError, _page_error)  # type: ignore[arg-type]


async def _page_error(request: Request, exc: PageError) -> Response:
    page = await page_of_request(request)
    if exc.status == 401:
        return page.redirect(f"/signin?next={request.url.path}")
    title = page.t(ERROR_TITLES.get(exc.status, "Error"))
    if exc.message == "csrf":
        message = page.t("The form was out of date or came from another site: reload the page and try again.")
    elif exc.message == "forbidden":
        message = page.t("Your key's role may not do this (it needs the role %(role)s).",
                         role=exc.values.get("role", ""))
    else:
        message = exc.message
    return page.render("error.html", status=exc.status, title=title, message=message, show_signin=False)
