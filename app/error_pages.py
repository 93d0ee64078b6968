"""Error pages for the staff UI (the API blueprint answers JSON itself), and the 503 of an unavailable database."""

from flask import g, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from app import json_errors, outages
from app.auth.access import local_url
from app.extensions import login_manager
from app.portal.web import error_page, in_portal

#: Paths of the producer API: JSON errors even where no API route matched (its own 404 or 405).
API_PREFIX = "/api/"


def _page(title, message, status, back=None):
    # IMPORTANT: auth/error.html reads nothing from the database, so it renders while the database is down.
    return render_template("auth/error.html", title=title, message=message,
                           back=local_url(back, None) if back else None), status


def register(app):
    """Render 4xx answers, CSRF failures and an unavailable database as pages a person can act on.

    Only class handlers: for its own routes the API blueprint's (JSON) then take precedence."""

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        if request.blueprint == "portal" or in_portal():
            return error_page("The page was open too long or came from elsewhere. Reload it and try again.", 400)
        return _page("Form expired", "The page was open too long or came from elsewhere. Reload it and try again.",
                     400, request.referrer)

    @app.errorhandler(HTTPException)
    def http_error(error):
        if request.path.startswith(API_PREFIX):
            return json_errors.http_error(error)
        if error.code is None or error.code >= 500:
            return error
        if request.blueprint == "portal" or in_portal():
            return error_page(error.description, error.code)
        return _page(error.name, error.description, error.code, request.referrer if error.code == 403 else None)

    @app.errorhandler(SQLAlchemyError)
    def database_unavailable(error):
        if request.path.startswith(API_PREFIX):
            return json_errors.database_error(error)
        if not outages.database_failed(error):
            raise error
        # IMPORTANT: the page must not look the person up again (Flask-Login would query the database that just
        # failed, for current_user in the template): this request goes on as anonymous.
        g._login_user = login_manager.anonymous_user()
        response, status = _page("Database unavailable", "Hookyard cannot reach its database right now. Nothing is "
                                 "lost: webhooks already accepted wait safely. Reload this page in a moment.", 503)
        return response, status, {"Retry-After": str(outages.RETRY_AFTER_SECONDS)}
