"""Flask-Admin's templates that templates/admin/ forks, against the installed package: an upgrade of Flask-Admin
that changes one of the originals fails here, naming the changes to re-apply to its new version.

Each fork lists the hash of the original it was made from and its changes, as a unified diff without context
(original -> fork). When Flask-Admin is upgraded and a hash no longer matches: copy the new original over the
fork, re-apply the listed changes, then record the new hash (the failure prints it).
"""

import difflib
import hashlib
from dataclasses import dataclass
from pathlib import Path

import flask_admin
import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
#: Flask-Admin's templates for the theme the admin uses (Bootstrap4Theme).
ORIGINALS = Path(flask_admin.__file__).parent / "templates" / "bootstrap4"


@dataclass(frozen=True)
class Fork:
    path: str  # under templates/
    original: str  # under ORIGINALS
    sha256: str  # of the original the fork was made from (Flask-Admin 2.2.1)
    why: str
    changes: tuple  # the fork's diff against that original, lines starting with "-" or "+"


FORKS = (
    Fork('admin/hookyard_page.html', 'admin/base.html',
         'a6add6a45c2ac3c55046ea283318e719269ac7b4e181cc3787904db53b8aaea4',
         'the page language, a skip link and <main> (accessibility); the navigation toggle\'s label translated', (
             "+{#- Flask-Admin 2.2's bootstrap4 base.html with the page language declared (screen readers need it); the rest is",
             "+    unchanged, so Flask-Admin's blocks work as documented. hookyard_base.html builds on it. -#}",
             '-<html>',
             '+<html lang="{{ html_lang() }}">',
             '+<a class="visually-hidden skip-link" href="#main">{{ _(\'Skip to the content\') }}</a>',
             '-                    aria-controls="admin-navbar-collapse" aria-expanded="false" aria-label="Toggle navigation">',
             '+                    aria-controls="admin-navbar-collapse" aria-expanded="false" aria-label="{{ _(\'Toggle navigation\') }}">',
             '-        {% block body %}{% endblock %}',
             '+        <main id="main">{% block body %}{% endblock %}</main>',
         )),
    Fork('admin/actions.html', 'admin/actions.html',
         '685288ebd9108462ae72a04b894303142f1f6b953834295a85f4c4e8d233a514',
         'no onclick= or javascript: links (the CSP refuses them)', (
             "+{#- Flask-Admin 2.2's actions.html without its onclick= handlers, which a strict CSP refuses: hookyard.js runs",
             '+    modelActions.execute() for links marked data-model-action. -#}',
             '-    <a class="{{ btn_class }}" data-toggle="dropdown" href="javascript:void(0)" role="button" aria-haspopup="true"',
             '+    <a class="{{ btn_class }}" data-toggle="dropdown" href="#" role="button" aria-haspopup="true"',
             '-            <a class="dropdown-item" href="javascript:void(0)"',
             '-               onclick="return modelActions.execute(\'{{ p[0] }}\');">{{ _gettext(p[1]) }}</a>',
             '+            <a class="dropdown-item" href="#" role="button" data-model-action="{{ p[0] }}">{{ _gettext(p[1]) }}</a>',
         )),
    Fork('admin/model/layout.html', 'admin/model/layout.html',
         '9801f7f6e21b6dfef6231ea0a2e297ff9903692e894ac1f72e84bd6dddea8cbe',
         'no onclick= or javascript: links (the CSP refuses them)', (
             "+{#- Flask-Admin 2.2's model/layout.html without onclick= and javascript: links, which a strict CSP refuses. -#}",
             '-    <a class="nav-link {{ btn_class }}" data-toggle="dropdown" href="javascript:void(0)">{{ _gettext(\'Add Filter\') }}</a>',
             '+    <a class="nav-link {{ btn_class }}" data-toggle="dropdown" href="#">{{ _gettext(\'Add Filter\') }}</a>',
             '-            <a href="javascript:void(0)" class="dropdown-item filter" onclick="return false;">{{ k }}</a>',
             '+            <a href="#" role="button" class="dropdown-item filter">{{ k }}</a>',
             '-            <a class="nav-link {{ btn_class }}" data-toggle="dropdown" href="javascript:void(0)" role="button"',
             '+            <a class="nav-link {{ btn_class }}" data-toggle="dropdown" href="#" role="button"',
             '-    <a class="{{ btn_class }}" data-toggle="dropdown" href="javascript:void(0)">',
             '+    <a class="{{ btn_class }}" data-toggle="dropdown" href="#">',
         )),
    Fork('admin/model/row_actions.html', 'admin/model/row_actions.html',
         '4dc1ade152ecd029860ea8248d10d60ec558571d798ccb20017cd2cc4bb42a7d',
         'the delete confirmation as data-confirm, not onclick=', (
             "+{#- Flask-Admin 2.2's row_actions.html; the delete confirmation is data-confirm (hookyard.js), not onclick=. -#}",
             '-<form class="icon" method="POST" action="{{ get_url(\'.delete_view\') }}">',
             '+<form class="icon" method="POST" action="{{ get_url(\'.delete_view\') }}" data-confirm="{{ _gettext(\'Are you sure you want to delete this record?\') }}">',
             '-  <button onclick="return faHelpers.safeConfirm(\'{{ _gettext(\'Are you sure you want to delete this record?\') }}\');" title="{{ _gettext(\'Delete Record\') }}">',
             '+  <button title="{{ _gettext(\'Delete Record\') }}">',
         )),
)


def changes(original, fork):
    """The lines fork removes from and adds to original (a unified diff without context or headers)."""
    diff = difflib.unified_diff(original.splitlines(), fork.splitlines(), n=0, lineterm="")
    return tuple(line for line in diff if not line.startswith(("---", "+++", "@@")))


def test_every_template_that_shadows_flask_admins_is_listed():
    shadowing = {p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.joinpath("admin").rglob("*.html")
                 if ORIGINALS.joinpath(p.relative_to(TEMPLATES)).exists()}
    assert shadowing == {fork.path for fork in FORKS if fork.path == fork.original}


@pytest.mark.parametrize("fork", FORKS, ids=lambda fork: fork.path)
def test_the_installed_original_is_the_one_the_fork_was_made_from(fork):
    original = ORIGINALS.joinpath(fork.original).read_bytes()
    digest = hashlib.sha256(original).hexdigest()
    assert digest == fork.sha256, (
        f"Flask-Admin {flask_admin.__version__} changed {fork.original}; copy it to templates/{fork.path}, "
        f"re-apply ({fork.why}):\n" + "\n".join(fork.changes) + f"\nthen record sha256 {digest}")


@pytest.mark.parametrize("fork", FORKS, ids=lambda fork: fork.path)
def test_the_fork_differs_from_the_original_only_by_its_listed_changes(fork):
    original = ORIGINALS.joinpath(fork.original).read_text()
    found = changes(original, TEMPLATES.joinpath(fork.path).read_text())
    assert found == fork.changes, "\n".join(found)
