"""GET /api/v1/system: workers alive, queues, periodic runs and versions (any producer API key)."""

from app.api import bp
from app.api.routes import out
from app.api.schemas import SystemOut
from app.api.scopes import require_scope
from app.ops.system import system_status


@bp.get("/system")
@require_scope("read")
def system():
    """Return workers, queues, oldest pending, last periodic runs, versions and warnings."""
    return out(SystemOut, system_status())
