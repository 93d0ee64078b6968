"""The one shape of a state-changing staff route: the role checked first, a refusal from the domain rolled back and
flashed (nothing changed), then one answer either way. CSRF is checked before any of it by Flask-WTF.

    @expose("/<source_id>/forward", methods=("POST",))
    @staff_post(Role.ADMIN, done=lambda self, source_id: self._manage(source_id))
    def change_forward(self, source_id):
        service.update_source(...)
        return "Forwarding turned on."      # flashed as a success, then done()

A route returns None (just done()), a sentence (flashed, then done()) or a response of its own (a page showing a
secret, a redirect elsewhere), which is answered as it is.
"""

import functools

from flask import flash
from flask_babel import gettext as _

from app.auth.access import require_role
from app.errors import InvalidInput
from app.extensions import db
from app.models import Role


def refused(exc):
    """What a refused change says, in the page's language: the reason, and that nothing was changed (said once)."""
    if "nothing was changed" in exc.message:
        return exc.localized
    return _("%(error)s; nothing was changed.", error=exc.localized)


def flash_refused(exc, form=None):
    """Say why a change was refused, in the banner and on the form field it is about when the form has it."""
    field = getattr(form, exc.field, None) if form is not None and getattr(exc, "field", None) else None
    if field is not None:
        field.errors = [*field.errors, exc.localized]
    flash(refused(exc), "error")


def needs_role(role: Role):
    """Decorate a staff route that needs more than its page's role (a GET showing a form or a confirmation)."""
    def decorate(view):
        @functools.wraps(view)
        def route(self, *args, **kwargs):
            require_role(role)
            return view(self, *args, **kwargs)
        return route
    return decorate


def staff_post(role: Role, *, done, refuses=InvalidInput):
    """Decorate a state-changing staff route: role, then the change; a refusal (refuses: an error class or a tuple
    of them) is rolled back and flashed; done(self, *route arguments) is the answer unless the route gave one."""
    def decorate(view):
        @needs_role(role)
        @functools.wraps(view)
        def route(self, *args, **kwargs):
            try:
                answer = view(self, *args, **kwargs)
            except refuses as exc:
                db.session.rollback()
                flash_refused(exc)
                return done(self, *args, **kwargs)
            if isinstance(answer, str):
                flash(answer, "success")
            elif answer is not None:
                return answer
            return done(self, *args, **kwargs)
        return route
    return decorate


def submitted(form, save):
    """Validate a sent form and return save(form)'s answer; None when the form is invalid or the domain refuses the
    change (rolled back, flashed and shown on its field): the page then shows the form again."""
    if not form.validate():
        return None
    return answer_or_refusal(save, form, lambda exc: flash_refused(exc, form))


def answer_or_refusal(act, form, refusal, refuses=InvalidInput):
    """Return act(form)'s answer; when the domain refuses the change (refuses), roll it back and return
    refusal(exc)'s answer instead."""
    try:
        return act(form)
    except refuses as exc:
        db.session.rollback()
        return refusal(exc)


def shown_again(page, form, act, refuses=InvalidInput):
    """Return act(form)'s answer; on a refusal, nothing changed, page(form, error=why): the form again, as typed."""
    return answer_or_refusal(act, form, lambda exc: page(form, error=exc.localized), refuses)


def done_or_flashed(act, refuses):
    """Run act(); return True, or False when it is refused (refuses), its reason flashed on the next page."""
    try:
        act()
    except refuses as exc:
        flash(exc.localized, "error")
        return False
    return True
