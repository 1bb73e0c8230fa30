"""The console's HTTP side: aiohttp routes, the login, the session and CSRF guard, and
the pages rendered from `figures` through Jinja2 templates (`templates/`).

Server-rendered HTML and no JavaScript at all (`docs/console.md` says why): every page
works in any browser, a screen reader reads it, and the Content-Security-Policy can
forbid every script. A changing action is two requests: a confirmation page (GET) whose
form carries the session's CSRF token, then the POST that checks it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from aiohttp import web
from jinja2 import StrictUndefined
from jinja2.loaders import DictLoader
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from bot.console import figures
from bot.console.access import COOKIE, Session
from bot.console.desk import Desk
from bot.console.words import LANGUAGES, words
from bot.dialogs.graph_text import to_dot
from bot.errors import VieError
from bot.store.funnel import BY
from bot.store.reach import Reach

log = logging.getLogger(__name__)
LANG_COOKIE = "vie_console_lang"
DESK = web.AppKey("desk", Desk)
ENV = web.AppKey("env", SandboxedEnvironment)
SESSION = web.RequestKey("session", Session)
GRAPHS = web.AppKey("graphs", dict)
CSS = web.AppKey("css", str)
PUBLIC = ("/login/", "/console.css")
CONTROLS = ("pause", "resume", "cancel")
DAYS = (7, 30, 90, 365)
HEADERS = {
    # no script may run, nothing is framed, forms post only here
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a login link never leaves in a Referer
    "Cache-Control": "no-store",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _templates() -> dict[str, str]:
    folder = resources.files("bot.console") / "templates"
    return {
        e.name: e.read_text(encoding="utf-8")
        for e in folder.iterdir()
        if e.name.endswith((".html", ".css"))
    }


def _environment(templates: dict[str, str]) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=DictLoader(templates), autoescape=True, undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )  # fmt: skip
    env.filters["num"] = lambda n: f"{int(n):,}".replace(",", "\u202f")
    env.filters["pct"] = lambda x: "–" if x is None else f"{100 * x:.1f} %"
    return env


def console_app(desk: Desk) -> web.Application:
    """The console, served on its own address (`serve_console` in the app)."""
    app = web.Application(middlewares=[_guard], client_max_size=64 * 1024)
    app[DESK] = desk
    templates = _templates()  # read from the package once
    app[ENV] = _environment(templates)
    app[CSS] = templates["console.css"]
    app[GRAPHS] = {}  # the graph of the version served, built once
    app.router.add_get("/login/{token}", _login)
    app.router.add_get("/console.css", _css)
    app.router.add_post("/logout", _logout)
    app.router.add_get("/", _funnel)
    app.router.add_get("/map", _map)
    app.router.add_get("/node/{key}", _node)
    app.router.add_get("/unknown", _unknown)
    app.router.add_get("/experiments", _experiments)
    app.router.add_get("/broadcasts", _broadcasts)
    app.router.add_get("/broadcasts/{action}", _confirm_control)
    app.router.add_post("/broadcasts/{action}", _control)
    app.router.add_get("/versions", _versions)
    app.router.add_get("/versions/rollback/{version}", _confirm_rollback)
    app.router.add_post("/versions/rollback/{version}", _rollback)
    return app


def _lang(request: web.Request) -> str:
    asked = request.query.get("lang") or request.cookies.get(LANG_COOKIE, "")
    if asked in LANGUAGES:
        return asked
    default = request.app[DESK].default_language
    return default if default in LANGUAGES else LANGUAGES[0]


def _page(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    lang = _lang(request)
    session = request.get(SESSION)
    desk = request.app[DESK]
    env = request.app[ENV]
    html = env.get_template(template).render(
        t=words(lang), lang=lang, languages=LANGUAGES, path=request.path,
        query=request.query_string, signed_in=session is not None,
        csrf=desk.access.csrf(session) if session is not None else "",
        now=desk.clock(), **context,
    )  # fmt: skip
    response = web.Response(text=html, status=status, content_type="text/html")
    if request.query.get("lang") in LANGUAGES:
        _cookie(response, desk, LANG_COOKIE, lang, 365 * 86400)
    return response


def _cookie(response: web.StreamResponse, desk: Desk, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name, value, max_age=age, path="/", httponly=True, samesite="Strict",
        secure=desk.secure,
    )  # fmt: skip


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Headers on every answer; a session for every page but the login; the CSRF token
    on every changing request."""
    desk = request.app[DESK]
    try:
        if not request.path.startswith(PUBLIC):
            session = desk.access.read_session(request.cookies.get(COOKIE), desk.clock())
            if session is None:
                response: web.StreamResponse = _page(request, "message.html", 401, kind="login")
            else:
                request[SESSION] = session
                if request.method == "POST":
                    form = await request.post()
                    if not desk.access.csrf_ok(session, _field(form, "csrf")):
                        log.warning(
                            "console: a changing request without a valid CSRF token refused"
                        )
                        response = _page(request, "message.html", 403, kind="forbidden")
                    else:
                        response = await handler(request)
                else:
                    response = await handler(request)
        else:
            response = await handler(request)
    except web.HTTPNotFound:
        response = _page(request, "message.html", 404, kind="not_found")
    except web.HTTPException as exc:  # a redirect, or an error aiohttp answers itself
        exc.headers.update(HEADERS)
        raise
    response.headers.update(HEADERS)
    return response


def _field(form: Any, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


async def _login(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    now = desk.clock()
    link = desk.access.read_link(request.match_info["token"], now)
    if link is None or not await desk.links.use(link.nonce_hash, link.admin_id, now):
        log.warning("console: a login link refused (used, expired or not valid)")
        return _page(request, "message.html", 403, kind="refused")
    cookie, _ = desk.access.new_session(link.admin_id, now)
    response = web.HTTPSeeOther("/")  # the token leaves the address bar at once
    _cookie(response, desk, COOKIE, cookie, int(desk.access.session_life.total_seconds()))
    rows = await desk.store.fetch_all("SELECT lang FROM users WHERE user_id = ?", (link.admin_id,))
    if rows and rows[0][0] in LANGUAGES:
        _cookie(response, desk, LANG_COOKIE, str(rows[0][0]), 365 * 86400)
    log.info("console: operator %d logged in", link.admin_id)
    raise response


async def _logout(request: web.Request) -> web.StreamResponse:
    response = web.HTTPSeeOther("/")
    response.del_cookie(COOKIE, path="/")
    raise response


async def _css(request: web.Request) -> web.StreamResponse:
    return web.Response(
        text=request.app[CSS], content_type="text/css", headers={"Cache-Control": "max-age=3600"}
    )


def _days(request: web.Request) -> int:
    raw = request.query.get("days", "30")
    return int(raw) if raw.isdigit() and int(raw) in DAYS else 30


async def _funnel(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    by = request.query.get("by") or None
    by = by if by in BY else None
    days = _days(request)
    funnel = await figures.funnel(desk.store, desk.clock(), days, by)
    stages = list(desk.dialogs().stage_totals)
    return _page(request, "funnel.html", funnel=funnel, days=days, by=by, choices=BY,
                 day_choices=DAYS, stage_order=stages)  # fmt: skip


async def _map(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    days = _days(request)
    mapped = await figures.dialog_map(
        desk.store, desk.dialogs(), desk.clock(), days, request.app[GRAPHS]
    )
    picture = None
    if desk.draw is not None:
        counts = {p.node.key: (p.reached, p.here) for p in mapped.places}

        def source() -> str:
            reach = Reach(counts, mapped.people, mapped.finished)
            return to_dot(mapped.graph, reach, link=lambda n: f"/node/{n.target}")

        key = (mapped.version, mapped.people, mapped.finished, tuple(counts.items()))
        svg = await desk.draw(key, source)
        if svg is not None:
            picture = _inline_svg(svg)
    return _page(request, "map.html", mapped=mapped, days=days, picture=picture, day_choices=DAYS)


def _inline_svg(svg: bytes) -> Markup:
    """Graphviz's SVG without its XML prolog, to sit in the page (its labels are escaped
    by Graphviz; the page's policy forbids scripts whatever it holds)."""
    text = svg.decode("utf-8", errors="replace")
    start = text.find("<svg")
    return Markup(text[start:] if start >= 0 else "")


async def _node(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    days = _days(request)
    view = await figures.node_view(
        desk.store, desk.dialogs(), request.match_info["key"], desk.clock(), days,
        request.app[GRAPHS],
    )  # fmt: skip
    if view is None:
        raise web.HTTPNotFound()
    return _page(
        request, "node.html", view=view, days=days, languages_served=desk.dialogs().languages
    )


async def _unknown(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    rows = await figures.unknown(desk.store, desk.dialogs())
    return _page(request, "unknown.html", rows=rows, days=desk.keep_unknown.days)


async def _experiments(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    views = await figures.experiments(desk.store, desk.dialogs())
    return _page(request, "experiments.html", experiments=views)


async def _broadcasts(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    job = await figures.broadcast(desk.store)
    done = request.query.get("done", "")
    return _page(request, "broadcasts.html", job=job, done=done if done in _OUTCOMES else "")


_OUTCOMES = {f"{r}_{a}" for r in ("done", "already") for a in CONTROLS} | {"none_active"}


def _action(request: web.Request) -> str:
    action = request.match_info["action"]
    if action not in CONTROLS:
        raise web.HTTPNotFound()
    return action


async def _confirm_control(request: web.Request) -> web.StreamResponse:
    action = _action(request)
    return _page(request, "confirm.html", question=words(_lang(request))[f"confirm_{action}"],
                 action=f"/broadcasts/{action}", back="/broadcasts")  # fmt: skip


async def _control(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    action = _action(request)
    outcome = await desk.store.broadcasts.control(action, desk.clock())  # type: ignore[arg-type]
    if outcome.result == "done" and action == "resume":
        desk.moving()
    session = request[SESSION]
    log.info(
        "console: operator %d asked to %s the broadcast: %s",
        session.admin_id,
        action,
        outcome.result,
    )
    said = "none_active" if outcome.result == "none" else f"{outcome.result}_{action}"
    raise web.HTTPSeeOther(f"/broadcasts?done={said}")


async def _versions(request: web.Request, failed: str = "") -> web.StreamResponse:
    desk = request.app[DESK]
    served = await figures.versions(desk.store)
    rolled = request.query.get("rolled", "")
    return _page(
        request, "versions.html", 409 if failed else 200, served=served,
        current=desk.dialogs().version, can_roll_back=desk.rollback is not None,
        rolled=rolled if any(s.version == rolled for s in served) else "", failed=failed,
    )  # fmt: skip


async def _confirm_rollback(request: web.Request) -> web.StreamResponse:
    version = await _known_version(request)
    question = words(_lang(request))["confirm_rollback"].format(version=version)
    return _page(request, "confirm.html", question=question,
                 action=f"/versions/rollback/{version}", back="/versions")  # fmt: skip


async def _known_version(request: web.Request) -> str:
    desk = request.app[DESK]
    version = request.match_info["version"]
    if desk.rollback is None or await desk.store.versions.files(version) is None:
        raise web.HTTPNotFound()
    return version


async def _rollback(request: web.Request) -> web.StreamResponse:
    """Write the version's files back and serve them; a version the checker now refuses
    (or a failed write) is said on the versions page, and the set served stays."""
    desk = request.app[DESK]
    version = await _known_version(request)
    assert desk.rollback is not None
    session = request[SESSION]
    try:
        served = await desk.rollback(version)
    except VieError as exc:
        log.warning("console: operator %d could not roll back to %s", session.admin_id, version)
        return await _versions(request, failed=str(exc)[:500])
    log.info("console: operator %d rolled the dialogs back to %s", session.admin_id, served)
    raise web.HTTPSeeOther(f"/versions?rolled={served}")
