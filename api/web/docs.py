"""``/docs`` and ``/redoc`` with every asset served by baygate (issue 23 point 9).

FastAPI's defaults load Swagger UI and ReDoc from a public CDN (and ReDoc a Google web font), so on a
closed hospital network, or from the Mainland, the API docs were blank. The same pages are served
here from the vendored npm packages (``api/web/static/vendor/README.md``: versions and licences).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

from api.web.render import WebRoute

router = APIRouter(include_in_schema=False, route_class=WebRoute)
VENDOR = "/-/static/vendor"
DOCS_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
               "script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; connect-src 'self'; "
               "frame-ancestors 'none'")
"""FastAPI's docs pages start their viewer with an inline script, so that is allowed here; nothing from
another host is (ReDoc's bundle shows its maker's logo from their CDN: the browser never asks for it)."""


def _local_only(response: HTMLResponse) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = DOCS_POLICY
    return response


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    return _local_only(get_swagger_ui_html(
        openapi_url=request.app.openapi_url, title="baygate API",
        swagger_js_url=f"{VENDOR}/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url=f"{VENDOR}/swagger-ui/swagger-ui.css",
        swagger_favicon_url=f"{VENDOR}/swagger-ui/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None}))


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    return _local_only(get_redoc_html(openapi_url=request.app.openapi_url, title="baygate API",
                                      redoc_js_url=f"{VENDOR}/redoc/redoc.standalone.js",
                                      redoc_favicon_url="/-/static/favicon.svg", with_google_fonts=False))
