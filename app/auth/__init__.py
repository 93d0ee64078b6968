"""Staff sign-in: login, logout, changing one's password."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import views  # noqa: E402,F401  registers the views on bp
