"""The Vietnamese catalog: every word the staff pages can show is extracted, translated, compiled, and no template
shows a word outside a translation call."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.support.audit_summaries import audit_summaries
from tests.support.refusals import placeholder_mismatches, unwrapped_refusals
from tests.support.untranslated import untranslated

ROOT = Path(__file__).resolve().parents[1]
#: The Python code whose refusals can reach a staff page.
APP_MODULES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "app").rglob("*.py"))
#: The Python code that writes audit entries (the workers' too).
AUDITING_MODULES = APP_MODULES + sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "tasks").rglob("*.py"))
CATALOG = ROOT / "app" / "translations"
PO = CATALOG / "vi" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
#: The templates staff see (the partner portal and the public event docs speak English only).
STAFF_TEMPLATES = sorted(p.relative_to(ROOT / "templates").as_posix()
                         for folder in ("admin", "auth", "email") for p in (ROOT / "templates" / folder).rglob("*.*"))
#: What the check reads wrongly, by template: a tag split across {% if %} branches looks like text to it.
CHECKED_BY_HAND = {
    "admin/outbound/endpoint_test_outcome.html": ['… class="alert mt-2 mb-0 small alert-…" data-status="…">… (… ms)'],
    # Flask-Admin's own words in its forks, translated by Flask-Admin's catalog (_gettext) or icons
    "admin/model/layout.html": ["'{} items'"],
    "admin/model/row_actions.html": ["'<span class=\"fa fa-eye glyphicon glyphicon-eye-open\"></span>'",
                                     "'<span class=\"fa fa-pencil glyphicon glyphicon-pencil\"></span>'"],
    # URL and pattern examples, the same in every language
    "admin/people/reference_links.html": ['placeholder="#{n}"',
                                          'placeholder="https://admin.shopify.com/store/your-store/orders/{n}"'],
}


def _messages(catalog):
    return {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}


def _strings(message):
    return message.string if isinstance(message.string, str) else tuple(message.string)


def _extracted():
    """The msgids pybabel extract finds with babel.cfg (the same call `pybabel extract -F babel.cfg -k _l` makes)."""
    from babel.messages.frontend import parse_mapping_cfg

    with open(ROOT / "babel.cfg") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}


def test_every_word_in_the_code_is_in_the_catalog():
    with open(PO, "rb") as fh:
        catalog = _messages(read_po(fh))
    missing = sorted(_extracted() - set(catalog))
    assert not missing, f"run pybabel extract and update (README, Languages); not in the catalog: {missing[:20]}"


def test_every_message_has_a_vietnamese_translation():
    with open(PO, "rb") as fh:
        catalog = read_po(fh)
    untranslated_ids = [m.id for m in catalog if m.id and not (m.string if isinstance(m.string, str)
                                                                   else all(m.string))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated_ids and not fuzzy, (untranslated_ids[:20], fuzzy[:20])


def test_the_compiled_catalog_matches_its_source():
    with open(PO, "rb") as fh:
        source = {key: _strings(m) for key, m in _messages(read_po(fh)).items()}
    with open(MO, "rb") as fh:
        compiled = {key: _strings(m) for key, m in _messages(read_mo(fh)).items()}
    assert compiled == source, "run pybabel compile -d app/translations (README, Languages)"


def test_placeholders_survive_translation():
    import re

    placeholder = re.compile(r"%\(\w+\)s|%s|\{\w*\}")
    with open(PO, "rb") as fh:
        catalog = read_po(fh)
    broken = [m.id for m in catalog if m.id and isinstance(m.id, str)
              and sorted(placeholder.findall(m.id)) != sorted(placeholder.findall(m.string))]
    assert not broken, broken


@pytest.mark.parametrize("template", STAFF_TEMPLATES)
def test_staff_templates_show_no_untranslated_words(template):
    from jinja2 import Environment

    Environment(extensions=["jinja2.ext.i18n"]).parse((ROOT / "templates" / template).read_text())  # well formed
    found = [text for text in untranslated((ROOT / "templates" / template).read_text())
             if text not in CHECKED_BY_HAND.get(template, ())]
    assert not found, f"wrap these in _() or {{% trans %}}: {found}"


def test_the_check_finds_a_word_outside_a_translation_call():
    assert untranslated('<p title="Retry it">{{ _("Retry") }} now</p>{{ x or "nothing to see" }}') == \
        ['title="Retry it"', "… now", "'nothing to see'"]
    assert untranslated('<p>{% trans %}Hello {{ name }}{% endtrans %} <code>X-Secret</code> 20 ms · HTTP</p>') == []


#: Refusals that stay English on purpose (README, Languages), by module and how the message starts: the partner
#: portal speaks English; an idempotency conflict's list of fields is an API answer composed from parts.
ENGLISH_REFUSALS = {
    "app/portal/scope.py": ('"no such endpoint"', '"no such delivery"'),
    "app/delivery/messages.py": ('f"idempotency key',),
}


@pytest.mark.parametrize("module", APP_MODULES)
def test_refusals_raised_with_words_are_marked_for_translation(module):
    found = [(line, message) for line, message in unwrapped_refusals((ROOT / module).read_text())
             if not message.startswith(ENGLISH_REFUSALS.get(module, ()))]
    assert not found, f"wrap these in _l() with named placeholders (README, Languages): {found}"


@pytest.mark.parametrize("module", APP_MODULES)
def test_every_placeholder_is_given_a_value(module):
    found = placeholder_mismatches((ROOT / module).read_text())
    assert not found, f"the named placeholders and the values given differ: {found}"


def test_the_check_finds_a_placeholder_without_a_value():
    assert placeholder_mismatches('_l("%(a)s of %(b)s", a=1, B=2)\n_l("%(a)s", a=1)\n_("100%")') == \
        [(1, "%(a)s of %(b)s")]


def test_the_check_finds_a_refusal_outside_a_translation_call():
    source = '''
raise InvalidInput("plain", field="a")
raise InvalidInput(f"{field} glued", field=field)
raise InvalidInput(_l("%(field)s wrapped", field=field), field=field)
raise InvalidInput(exc.text)
check_choice(Role, value, "role must be one", "role")
check_choice(Role, value, _l("role must be one"), "role")
'''
    assert unwrapped_refusals(source) == [(2, '"plain"'), (3, 'f"{field} glued"'), (6, '"role must be one"')]


def test_every_setting_reads_in_vietnamese(app):
    from flask_babel import force_locale

    from app.errors import english
    from app.staff.settings import DEFINITIONS, SECTION_TITLES

    words = [d.label for d in DEFINITIONS] + [d.help for d in DEFINITIONS if d.help] + list(SECTION_TITLES.values())
    with app.test_request_context(), force_locale("vi"):
        same = [english(word) for word in words if str(word) == english(word)]
    assert not same, f"mark these with _l() and translate them: {same}"


def test_every_audit_summary_the_code_writes_reads_in_vietnamese():
    with open(PO, "rb") as fh:
        catalog = _messages(read_po(fh))
    plain, missing = [], []
    for module in AUDITING_MODULES:
        for line, msgid in audit_summaries((ROOT / module).read_text()):
            if msgid is None:
                plain.append(f"{module}:{line}")
            elif not (msgid in catalog and catalog[msgid].string):
                missing.append(f"{module}:{line} {msgid!r}")
    assert not plain, f"write these audit summaries as _l() with named placeholders (README, Languages): {plain}"
    assert not missing, f"run pybabel extract and update, and translate (README, Languages): {missing}"


def test_the_check_finds_an_audit_summary_outside_a_translation_call():
    source = '''
record(actor, Action.LOGIN, "signed in")
record(actor, Action.LOGIN, f"signed in from {ip}", target_type="user")
record(actor, Action.LOGIN, "signed " + "in")
record(actor, Action.LOGIN, _l("signed in"))
summary = _l("updated %(email)s", email=email)
record(actor, Action.USER_UPDATE, summary)
record(actor, Action.USER_UPDATE, outcome.summary("retried"))
'''
    assert audit_summaries(source) == [(2, None), (3, None), (4, None), (5, "signed in"), (6, "updated %(email)s")]
