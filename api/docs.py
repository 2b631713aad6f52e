"""Interactive API docs that work offline: Swagger UI and ReDoc served from the assets the
``fastapi-offline`` package ships, instead of FastAPI's default CDN links (a blank page on a
machine without internet)."""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

STATIC = "/docs-static"
REDOC_JS = "/docs-offline/redoc.standalone.js"
# ReDoc's bundle draws its "API docs by Redocly" footer with a logo from Redocly's CDN, whatever
# its options say: the copy served here draws a blank picture instead, so /redoc asks nothing
# of any other host.
REDOC_CDN_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
BLANK_SVG = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E"


def add_offline_docs(app: FastAPI) -> None:
    """Mount the assets and the /docs and /redoc pages (create the app with docs_url=None)."""
    assets = resources.files("fastapi_offline") / "static"
    app.mount(STATIC, StaticFiles(directory=str(assets)), name="docs-static")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} — API",
            swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC}/favicon.png",
        )

    bundle = (assets / "redoc.standalone.js").read_text(encoding="utf-8")
    offline_bundle = bundle.replace(REDOC_CDN_LOGO, BLANK_SVG)

    @app.get(REDOC_JS, include_in_schema=False)
    def redoc_js() -> Response:
        return Response(
            offline_bundle,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} — API",
            redoc_js_url=REDOC_JS,
            redoc_favicon_url=f"{STATIC}/favicon.png",
            with_google_fonts=False,
        )
