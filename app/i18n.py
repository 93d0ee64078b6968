"""The staff UI's language: English or Vietnamese, chosen by the person (Preferences), else by the browser.

Flask-Babel translates with the catalog in app/translations (the compiled .mo files are committed, so the platforms,
which only install requirements.txt, need no build step; tests/test_translations.py holds .po and .mo together).
Flask-Admin's own words (List, Filters, Save) come from Flask-Admin's catalog for the same locale.
"""

from flask import request
from flask_babel import Babel, get_locale
from flask_login import current_user

#: The languages the staff UI speaks, the first being the default.
LOCALES = ("en", "vi")
#: Each language's name in itself, as the Preferences page offers it.
LANGUAGE_NAMES = {"en": "English", "vi": "Tiếng Việt"}
#: Blueprints that answer in English whoever asks: the partner portal, the producer API's JSON, the inbound
#: receivers, the health and metrics routes and the public event docs.
ENGLISH_ONLY = frozenset({"portal", "api", "inbound", "ops", "docs"})

babel = Babel()


def select_locale():
    """The signed-in person's language, else the browser's best match among LOCALES, else English. The partner
    portal, the API and the other machine-facing routes speak English only (ENGLISH_ONLY)."""
    if request and request.blueprint in ENGLISH_ONLY:
        return LOCALES[0]
    chosen = getattr(current_user, "locale", None)
    return chosen if chosen in LOCALES else browser_locale()


def browser_locale():
    """The browser's best match among LOCALES (Accept-Language), else English."""
    if not request:
        return LOCALES[0]
    return request.accept_languages.best_match(LOCALES, LOCALES[0])


def html_lang():
    """The language of the page being rendered, for <html lang>."""
    return str(get_locale() or LOCALES[0])


def init_app(app):
    """Bind Babel to app and give templates html_lang()."""
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals.update(html_lang=html_lang)
