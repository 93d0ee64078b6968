"""Error pages for the staff UI (the API blueprint answers JSON itself)."""

from flask import render_template, request
from flask_wtf.csrf import CSRFError


def register(app):
    """Render 403, 404 and CSRF failures as pages a person can act on."""

    @app.errorhandler(403)
    def forbidden(error):
        message = getattr(error, "description", None) or "You do not have the role this needs."
        return render_template("auth/error.html", title="Not allowed", message=message,
                               back=request.referrer), 403

    @app.errorhandler(404)
    def not_found(error):
        return render_template("auth/error.html", title="Not found", message=error.description), 404

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return render_template("auth/error.html", title="Form expired",
                               message="The page was open too long or came from elsewhere. Reload it and try again.",
                               back=request.referrer), 400
