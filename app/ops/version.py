"""The version this process runs: the deployed git commit, as the platform names it, or `git rev-parse`."""

import functools
import os
import subprocess

from flask import current_app

#: The project root, where `git` is asked when no platform variable names the commit.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
#: Shown when neither the environment nor git knows.
UNKNOWN = "unknown"


@functools.cache
def _from_git():
    try:
        out = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return UNKNOWN
    return out or UNKNOWN


def short(version):
    """Trim a full commit SHA to 12 characters; leave anything else alone."""
    if len(version) == 40 and all(c in "0123456789abcdef" for c in version.lower()):
        return version[:12]
    return version


def current_version():
    """Return this process's version (SOURCE_VERSION / RENDER_GIT_COMMIT / HEROKU_SLUG_COMMIT, else git)."""
    configured = current_app.config.get("SOURCE_VERSION")
    return short(configured) if configured else _from_git()
