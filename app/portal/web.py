"""The partner portal's pages, /portal: a link's session sees only its endpoints, their deliveries and attempts,
and does what the link allows. No staff navigation; every POST carries a CSRF token (CSRFProtect)."""

import json
import math

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError

from app.auth import sessions as staff_sessions
from app.credentials.masking import MASK
from app.delivery.queries import DeliveryFilter
from app.errors import HookyardError, InvalidInput, NotFound
from app.extensions import db
from app.models import DeliveryStatus, utcnow
from app.portal import actions, links, scope
from app.staff import branding

bp = Blueprint("portal", __name__, url_prefix="/portal")

#: The key of the portal link's id in Flask's session cookie. While it is there, only portal pages answer.
SESSION_KEY = "portal_link"
#: Endpoints anyone may reach while a portal session is in the cookie: the portal and public static files.
OPEN_TO_PARTNERS = frozenset({"static", "admin.static"})
#: The furthest page of deliveries one may ask for.
MAX_PAGE = 100_000
#: Portal pages a browser without a live portal session may open.
PUBLIC_PAGES = frozenset({"portal.enter", "portal.open_link", "portal.leave", "portal.logo"})
#: How long a browser may keep the logo (its URL carries its version, so a new logo is fetched at once).
LOGO_MAX_AGE_SECONDS = 86_400


def link_url(token):
    """The URL a partner opens: the token rides in the fragment, which browsers never send to a server."""
    return f"{url_for('portal.enter', _external=True)}#{token}"


def in_portal():
    """Say whether this request carries a portal session (live or not)."""
    return SESSION_KEY in session


def confine_partners():
    """A portal session reaches the portal and nothing else: every other path answers 404, whatever the method.

    IMPORTANT: create_app registers it before CSRFProtect, so a POST elsewhere gets the same 404, not a CSRF error.
    """
    if not request.environ.get("HTTP_COOKIE") or current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return  # no session cookie at all (every API call, every provider): nothing to read, nor cookies to parse
    if in_portal() and request.blueprint != "portal" and request.endpoint not in OPEN_TO_PARTNERS:
        abort(404)


def error_page(description, status):
    """A portal error page: no staff navigation, no link into the staff console."""
    return render_template("portal/error.html", description=description, status=status), status


@bp.before_request
def require_live_link():
    """Load the session's link on every request: expired or revoked, the session stops at once."""
    g.portal_link = links.live_link(session.get(SESSION_KEY))
    if g.portal_link is None and request.endpoint not in PUBLIC_PAGES:
        abort(404, description="This portal link has expired or was revoked, or the page does not exist. "
                               "Ask the shop for a new link.")


@bp.context_processor
def shop():
    """Every portal page shows the shop's name and logo, when an admin set them."""
    try:
        return {"shop": branding.current_shop()}
    except SQLAlchemyError:  # the database is out (an error page is being shown): the plain header
        db.session.rollback()
        return {"shop": branding.Shop(None, None)}


@bp.get("/logo")
def logo():
    """The shop's logo, from this origin (the CSP's img-src 'self'), never sniffed as anything but an image."""
    row = branding.load_logo()
    if row is None:
        abort(404, description="There is no logo.")
    response = make_response(row.data)
    response.headers.update({"Content-Type": row.content_type, "X-Content-Type-Options": "nosniff",
                             "Cache-Control": f"public, max-age={LOGO_MAX_AGE_SECONDS}",
                             "Content-Disposition": "inline"})
    response.set_etag(row.digest)
    return response.make_conditional(request)


@bp.errorhandler(HookyardError)
def refused(error):
    db.session.rollback()  # a refused action keeps nothing it began
    if isinstance(error, NotFound):
        return error_page("This page does not exist.", 404)
    flash(error.message, "error")
    args = request.view_args or {}
    if "delivery_id" in args:
        return redirect(url_for(".delivery", delivery_id=args["delivery_id"]))
    if "endpoint_id" in args:
        return redirect(url_for(".endpoint", endpoint_id=args["endpoint_id"]))
    return redirect(url_for(".home"))


def _ip():
    return request.remote_addr


@bp.get("/enter")
def enter():
    """The page a link opens: a script hands the token in the URL's fragment to the POST below (no server sees
    it in a URL); without the script, paste it."""
    return render_template("portal/enter.html")


@bp.post("/enter")
def open_link():
    link = links.open_link(request.form.get("token", "").strip(), _ip())
    if link is None:
        abort(404, description="This portal link is not valid: it expired, was revoked or was mistyped.")
    if staff_sessions.current_token():
        staff_sessions.end("opened a partner portal link")  # the staff session ends on the server too
    session.clear()  # IMPORTANT: a new session: nothing planted before (a staff sign-in, a CSRF secret) survives
    session[SESSION_KEY] = link.id
    return redirect(url_for(".home"))


@bp.post("/leave")
def leave():
    session.clear()
    return render_template("portal/left.html")


@bp.get("/")
def home():
    link = g.portal_link
    return render_template("portal/home.html", link=link, endpoints=scope.endpoints(link),
                           figures=scope.figures(link), now=utcnow())


@bp.get("/events")
def events():
    link = g.portal_link
    return render_template("portal/events.html", link=link, event_types=scope.event_types(link))


@bp.get("/deliveries")
def deliveries():
    link = g.portal_link
    try:
        flt = DeliveryFilter.from_args({k: request.args.get(k) for k in ("q", "status", "endpoint_id")})
        page = int(request.args.get("page") or 1)
        if not 1 <= page <= MAX_PAGE:
            raise ValueError
    except (InvalidInput, ValueError) as exc:
        abort(400, description=getattr(exc, "message", f"page must be a whole number from 1 to {MAX_PAGE}"))
    if flt.endpoint_id and flt.endpoint_id not in link.endpoint_ids:
        abort(404, description="This page does not exist.")
    rows, more = scope.deliveries(link, flt, page)
    return render_template("portal/deliveries.html", link=link, rows=rows, more=more, page=page, flt=flt,
                           endpoints=scope.endpoints(link), statuses=[s.value for s in DeliveryStatus])


@bp.get("/deliveries/<delivery_id>")
def delivery(delivery_id):
    link = g.portal_link
    row = scope.delivery(link, delivery_id)
    payload = None if row.message.payload_purged_at else json.dumps(json.loads(row.message.payload), indent=2,
                                                                    ensure_ascii=False)
    return render_template("portal/delivery.html", link=link, delivery=row, message=row.message,
                           attempts=scope.attempts(row), payload=payload, now=utcnow())


@bp.post("/deliveries/<delivery_id>/<any(retry, replay):verb>")
def attempt_again(delivery_id, verb):
    actions.retry_or_replay(g.portal_link, delivery_id, verb, _ip())
    flash(f"{verb.capitalize()} asked: the attempt shows below in a moment.", "success")
    return redirect(url_for(".delivery", delivery_id=delivery_id))


@bp.get("/endpoints/<endpoint_id>")
def endpoint(endpoint_id):
    link = g.portal_link
    row = scope.endpoint(link, endpoint_id)
    return render_template("portal/endpoint.html", link=link, endpoint=row, now=utcnow(),
                           figures=scope.figures(link).get(row.id), mask=MASK)


@bp.post("/endpoints/<endpoint_id>/test")
def send_test(endpoint_id):
    sent = actions.send_test(g.portal_link, endpoint_id, _ip())
    flash("Test event sent: its attempt shows below in a moment.", "success")
    return redirect(url_for(".delivery", delivery_id=sent.id))


@bp.post("/endpoints/<endpoint_id>/settings")
def change_settings(endpoint_id):
    types = [t.strip() for t in request.form.get("event_types", "").replace("\n", ",").split(",") if t.strip()]
    actions.change_settings(g.portal_link, endpoint_id, request.form.get("url", "").strip(), types, _ip())
    flash("Endpoint saved.", "success")
    return redirect(url_for(".endpoint", endpoint_id=endpoint_id))


@bp.post("/endpoints/<endpoint_id>/rotate")
def rotate(endpoint_id):
    try:
        hours = float(request.form.get("grace_hours") or "24")
    except ValueError:
        hours = math.nan
    if not math.isfinite(hours) or hours < 0:
        raise InvalidInput(_l("Grace period: enter a number of hours"))
    row, secret = actions.rotate_secret(g.portal_link, endpoint_id, int(hours * 3600), _ip())
    return _no_store(render_template("portal/secret.html", link=g.portal_link, endpoint=row, secret=secret,
                                     rotated=True))


@bp.post("/endpoints/<endpoint_id>/secret")
def reveal_secret(endpoint_id):
    secret = actions.reveal_secret(g.portal_link, endpoint_id, _ip())
    return _no_store(render_template("portal/secret.html", link=g.portal_link,
                                     endpoint=scope.endpoint(g.portal_link, endpoint_id), secret=secret,
                                     rotated=False))


def _no_store(body):
    return body, 200, {"Cache-Control": "no-store"}
