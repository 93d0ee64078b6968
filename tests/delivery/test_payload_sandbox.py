"""The payload template sandbox: what a template may not do is refused, at save when it can be seen, else when it
renders, and a render is bounded in size and time."""

import time

import pytest

from app.delivery.formats import sandbox
from app.delivery.formats.sandbox import TemplateFailed, compile_template, render

VARIABLES = {"type": "order.created", "id": "msg_1", "timestamp": "2026-12-06T10:00:00Z", "reference": "#1",
             "tags": ["ABCD1234"], "data": {"order": {"id": 1, "name": "O'Brien \"Ltd\""}}}


def test_tojson_writes_the_value_as_json():
    assert render('{"order_ref": {{ data.order | tojson }}}', VARIABLES) == \
        '{"order_ref": {"id": 1, "name": "O\'Brien \\"Ltd\\""}}'


@pytest.mark.parametrize(("source", "message"), [
    ("{{ ''.__class__ }}", "may not read '__class__'"),
    ("{{ data.__class__.__mro__ }}", "may not read"),
    ("{{ data['__class__'] }}", "may not read '__class__'"),
    ("{{ ''|attr('__class__') }}", "No filter named 'attr'"),
    ("{% include 'other' %}", "may not extend, include or import"),
    ("{% import 'other' as x %}", "may not extend, include or import"),
    ("{{ data.order.id", "line 1"),
    ("{{ hookyard_tick() }}", "reserved"),
])
def test_what_a_template_may_not_do_is_refused_when_compiled(source, message):
    with pytest.raises(TemplateFailed, match=message):
        compile_template(source)


@pytest.mark.parametrize(("source", "message"), [
    ("{% set f = '__cla' ~ 'ss__' %}{{ data[f] }}", "access to attribute '__class__' of 'dict' object is unsafe"),
    ("{% set f = '__cla' ~ 'ss__' %}{{ ''[f] }}", "text has no items by name"),
    ("{{ ''['format'] }}", "text has no items by name"),
    ("{{ '{0.__class__}'.format(data) }}", "str.format is not available"),
    ("{{ '%999999999d' % 1 }}", "% formatting of text is not available"),
    ("{{ tags.append('x') }}", "unsafe"),
    ("{{ data.update({}) }}", "unsafe"),
    ("{{ 'a' * 100000000 }}", "would build more than"),
    ("{{ 'a'.ljust(100000000) }}", "would build more than"),
    ("{{ 'x'|center(100000000) }}", "would build more than"),
    ("{{ 10 ** 100000 }}", "power over 64"),
    ("{{ range(100000)|list|length }}", "range() may make at most"),
    ("{% set ns = namespace(s='ab') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
     "built more than"),
])
def test_what_a_template_may_not_do_is_refused_when_rendered(source, message):
    with pytest.raises(TemplateFailed, match="^refused: ") as failed:
        render(source, VARIABLES)
    assert message in failed.value.message


def test_output_is_bounded():
    with pytest.raises(TemplateFailed, match=f"output is over {sandbox.MAX_OUTPUT_BYTES} bytes"):
        render("{% for i in range(10000) %}{{ 'x' * 100 }}{% endfor %}", VARIABLES)


@pytest.mark.parametrize("source", [
    "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
    "{% set xs = range(10000)|list %}{% for i in xs %}{% for j in xs %}{% endfor %}{% endfor %}",
    "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}",
])
def test_render_time_is_bounded(source):
    started = time.monotonic()
    with pytest.raises(TemplateFailed, match="ran longer than"):
        render(source, VARIABLES)
    assert time.monotonic() - started < sandbox.MAX_RENDER_SECONDS + 2  # a loaded machine may add some


def test_undefined_values_fail_with_their_name():
    with pytest.raises(TemplateFailed, match="'dict object' has no attribute 'missing'"):
        render("{{ data.missing | tojson }}", VARIABLES)
    assert render("{{ data.missing is defined }} {{ data.get('missing', 0) }}", VARIABLES) == "False 0"
