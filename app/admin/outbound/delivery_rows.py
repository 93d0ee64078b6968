"""One delivery's actions from the monitor and the View log page: retry, replay, cancel, resolve, send now.

Each is a POST with CSRF. From a monitor row (htmx, HX-Request) the answer is the row itself, which then
polls until the attempt has landed and shows its outcome in place; otherwise it redirects back.
"""

from flask import request
from flask_admin import expose
from flask_babel import gettext as _

from app.admin.shared import staff_actions
from app.admin.shared.posting import staff_post
from app.audit import Action
from app.auth.access import has_role, staff_actor
from app.delivery.attempt.ordering import waiting_for
from app.delivery.failure_reasons import last_reasons
from app.delivery.queries import get_delivery
from app.errors import NotFound
from app.models import DeliveryStatus, Role, utcnow
from app.staff.retry_cap import retry_allowance
from app.staff.settings import get_setting


def in_flight(delivery):
    """Whether an attempt is asked for or running and should land soon (so a watched row keeps polling)."""
    if delivery.status is DeliveryStatus.SENDING:
        return True
    return (delivery.status is DeliveryStatus.PENDING and delivery.next_trigger is not None
            and delivery.held_because is None)


def _answer(view, delivery_id):
    return view.answer(delivery_id)


class DeliveryRowActionsMixin:
    """Row actions of the DeliveryView (a mixin so the view module stays one concern); the view gives page_counts()."""

    def _row(self, delivery_id, watch=False):
        try:
            delivery = get_delivery(delivery_id)
        except NotFound as exc:
            return exc.localized, 404
        operate = has_role(Role.OPERATOR)
        return self.render("admin/outbound/monitor_row_fragment.html", d=delivery, ahead=waiting_for([delivery]),
                           reasons=last_reasons([delivery.id]), now=utcnow(), watch=watch,
                           polling=watch and in_flight(delivery),
                           allowance=retry_allowance(staff_actor()) if operate else None,
                           cooldown_seconds=get_setting("retry_cooldown_seconds"), page_counts=self.page_counts())

    @expose("/row/<delivery_id>")
    def row_fragment(self, delivery_id):
        """One monitor row; with watch=1 it keeps polling until an asked-for attempt lands, then shows it."""
        return self._row(delivery_id, watch=request.args.get("watch") == "1")

    @expose("/retry/<delivery_id>", methods=("POST",))
    @staff_post(Role.OPERATOR, done=_answer)
    def retry_one(self, delivery_id):
        staff_actions.retry_as_staff([delivery_id], audit_action=Action.DELIVERY_RETRY)

    @expose("/replay/<delivery_id>", methods=("POST",))
    @staff_post(Role.OPERATOR, done=_answer)
    def replay_one(self, delivery_id):
        staff_actions.replay_as_staff([delivery_id], audit_action=Action.DELIVERY_REPLAY)

    @expose("/cancel/<delivery_id>", methods=("POST",))
    @staff_post(Role.OPERATOR, done=_answer)
    def cancel_one(self, delivery_id):
        staff_actions.cancel_as_staff([delivery_id], audit_action=Action.DELIVERY_CANCEL)

    @expose("/send-now/<delivery_id>", methods=("POST",))
    @staff_post(Role.OPERATOR, done=_answer)
    def send_now_one(self, delivery_id):
        staff_actions.send_now_as_staff([delivery_id], audit_action=Action.DELIVERY_SEND_NOW)

    @expose("/resolve/<delivery_id>", methods=("POST",))
    @staff_post(Role.OPERATOR, done=_answer)
    def resolve_one(self, delivery_id):
        staff_actions.resolve_as_staff([delivery_id], request.form.get("note", ""),
                                       audit_action=Action.DELIVERY_RESOLVE)


def retry_blocked(delivery, allowance, cooldown_seconds, now):
    """Why this person cannot retry or replay this delivery now (hourly cap, per-delivery cooldown), or None."""
    if allowance is not None and not allowance.unlimited and allowance.left == 0:
        return _("Hourly retry cap reached (next at %(time)s UTC); bulk actions count once",
                 time=f"{allowance.free_at:%H:%M}")
    if cooldown_seconds and delivery.manual_retry_at is not None:
        wait = cooldown_seconds - (now - delivery.manual_retry_at).total_seconds()
        if wait > 0:
            return _("Retried by hand moments ago; possible again in %(minutes)s min", minutes=max(int(wait // 60), 1))
    return None
