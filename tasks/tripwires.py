"""Version tripwires on the places where Hookyard leans on Dramatiq's internals.

tasks.redis_wakeup rewrites _RedisConsumer.__next__, tasks.local_wakeups puts messages on a Worker's work queue
as its consumers do, and tasks.worker recognises the SIGTERM handler of dramatiq.cli.worker_process by its
qualname. None is public API: a new Dramatiq release may change them
without notice, so each module refuses to import on any release but the one it was checked against.
"""

import dramatiq

#: The dramatiq release the intrusions were checked against; requirements.txt pins the same one.
DRAMATIQ_VERSION = "2.2.1"

#: How the SIGTERM handler that dramatiq.cli.worker_process installs names itself (a nested function).
WORKER_PROCESS_QUALNAME = "worker_process.<locals>."


def require_dramatiq(recheck, version=None):
    """Raise ImportError naming what to re-check unless the installed dramatiq is DRAMATIQ_VERSION."""
    version = dramatiq.__version__ if version is None else version
    if version != DRAMATIQ_VERSION:
        raise ImportError(f"dramatiq {version} is installed but {recheck} was written against dramatiq "
                          f"{DRAMATIQ_VERSION}: re-check it against upstream, then update "
                          "tasks.tripwires.DRAMATIQ_VERSION and requirements.txt")
