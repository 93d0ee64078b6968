"""Bulk jobs: "retry all failed that match this filter" with a confirmation, live progress and a summary."""

from flask import abort, jsonify, request
from flask_admin import expose
from flask_babel import gettext as _
from sqlalchemy import select

from app.admin.shared.base import StaffView, or_404
from app.admin.shared.posting import needs_role, staff_post
from app.admin.shared.staff_actions import within_retry_cap
from app.auth.access import staff_actor
from app.delivery.operations import bulk
from app.delivery.queries import DeliveryFilter, count_deliveries
from app.errors import InvalidInput
from app.extensions import db
from app.models import BulkJob, Endpoint, Role
from app.stored_text import shown_or


def job_json(job):
    """The progress figures, for scripts (GET /admin/jobs/<id>.json)."""
    return {
        "id": job.id, "status": job.status.value, "total": job.total, "done": job.done, "changed": job.changed,
        "skipped": job.skipped or {}, "error": job.error,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def job_skip_reason(job, reason):
    """Why a job skipped some rows, in the reader's language (as stored, in English, on a job from before)."""
    return shown_or((job.skipped_messages or {}).get(reason), reason)


class JobView(StaffView):
    """Bulk jobs: the confirmation stating the count, live progress, and how the attempts turned out."""

    def _filter(self, args):
        try:
            return bulk.failed_matching(DeliveryFilter.from_args(args))
        except InvalidInput as exc:
            abort(400, description=exc.localized)

    def _described(self, flt):
        names = dict(db.session.execute(select(Endpoint.id, Endpoint.name)).all())
        args = flt.to_args()
        if "endpoint_id" in args:
            args["endpoint"] = names.get(args.pop("endpoint_id")) or args.get("endpoint_id")
        return args

    @expose("/")
    def index(self):
        jobs = db.session.scalars(select(BulkJob).order_by(BulkJob.created_at.desc()).limit(50)).all()
        return self.render("admin/outbound/jobs.html", jobs=jobs)

    @expose("/retry-matching")
    @needs_role(Role.OPERATOR)
    def confirm_retry(self):
        flt = self._filter(request.args)
        return self.render("admin/outbound/job_confirm.html", count=count_deliveries(flt), filter_args=flt.to_args(),
                           described=self._described(flt))

    @expose("/retry-matching", methods=("POST",))
    @staff_post(Role.OPERATOR, done=lambda self: self.back_to(".confirm_retry", **self._filter(request.form).to_args()))
    def start_retry(self):
        flt = self._filter(request.form)
        actor = staff_actor()
        if not within_retry_cap(actor):
            return None  # the banner says why; back to the confirmation
        job = bulk.start_bulk_retry(flt, actor=actor)
        return self.back_to(".job_view", job_id=job.id)

    def _job(self, job_id):
        return or_404(bulk.get_job(job_id), _("No job with id %(id)s.", id=job_id))

    @expose("/<job_id>")
    def job_view(self, job_id):
        job = self._job(job_id)
        return self.render("admin/outbound/job.html", job=job, outcomes=bulk.job_outcomes(job),
                           described=self._described(DeliveryFilter.from_args(job.filters)))

    @expose("/<job_id>/progress")
    def job_progress(self, job_id):
        """The job's progress (a fragment the job page polls until the job is done)."""
        return self.render("admin/outbound/job_progress.html", job=self._job(job_id))

    @expose("/<job_id>/outcomes")
    def job_outcomes(self, job_id):
        """How the job's attempts turned out (a fragment the job page polls until none is waiting)."""
        job = self._job(job_id)
        return self.render("admin/outbound/job_outcomes.html", job=job, outcomes=bulk.job_outcomes(job))

    @expose("/<job_id>.json")
    def job_status(self, job_id):
        return jsonify(job_json(self._job(job_id)))
