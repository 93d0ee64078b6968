"""Find the words a template shows that are not inside a translation call: text between tags, visible attributes
(title, aria-label, placeholder, alt, data-confirm, data-label, a button's value) and prose string literals in Jinja
expressions. Jinja expressions become a neutral mark first, so only the template's own words are read."""

import re
from html.parser import HTMLParser

from jinja2 import Environment
from jinja2.lexer import TOKEN_BLOCK_BEGIN, TOKEN_BLOCK_END, TOKEN_DATA, TOKEN_NAME, TOKEN_STRING

#: Attributes whose text a person sees or hears.
VISIBLE_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt", "data-confirm", "data-label"}
#: Elements whose text is code, not words: shown as written in every language.
VERBATIM = {"script", "style", "code", "pre", "kbd", "samp"}
#: Words that are the same in English and Vietnamese pages: names, units and technical terms.
SAME_IN_EVERY_LANGUAGE = {
    "hookyard", "ms", "http", "https", "json", "url", "urls", "api", "id", "ids", "html", "utc", "hmac", "sha", "ok",
    "shopify", "stripe", "zoho", "webhook", "webhooks", "svix", "etc", "tls", "dns", "csv", "kb", "mb", "s", "h",
    "min", "d", "x", "iana", "post", "get", "xx", "authorization", "p",
}
#: Mark left where a Jinja expression stood.
MARK = "\x00"
CAPITALISED = re.compile(r"^[A-Z][a-z]+[.…]?$")
CSS_CLASS = re.compile(r"^[a-z0-9-]+$")
WORD = re.compile(r"[^\W\d_]+")


def words_needing_translation(text):
    """The words of text that a translation would change (empty when all are technical terms or marks)."""
    return [w for w in WORD.findall(text.replace(MARK, " ")) if w.lower() not in SAME_IN_EVERY_LANGUAGE]


class _Visible(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self.verbatim = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in VERBATIM:
            self.verbatim += 1
        attrs = dict(attrs)
        for name, value in attrs.items():
            button = tag == "input" and attrs.get("type") in ("submit", "button")
            shown = name in VISIBLE_ATTRIBUTES or (button and name == "value")
            if shown and value and words_needing_translation(value):
                self.found.append(f'{name}="{value.replace(MARK, "…")}"')

    def handle_endtag(self, tag):
        if tag in VERBATIM and self.verbatim:
            self.verbatim -= 1

    def handle_data(self, data):
        if not self.verbatim and words_needing_translation(data):
            self.found.append(" ".join(data.replace(MARK, "…").split()))


def _skeleton(env, source):
    """The template's own text with every Jinja expression and tag replaced by MARK; string literals in Jinja
    code that are not arguments of a translation call come back separately."""
    text, literals, previous = [], [], []
    in_trans = in_block = False
    for _, kind, value in env.lex(source):
        if kind == TOKEN_DATA:
            text.append(MARK if in_trans else value)
            continue
        if kind == "whitespace":
            continue
        if kind == TOKEN_BLOCK_BEGIN:
            in_block = True
        elif kind == TOKEN_BLOCK_END:
            in_block = False
        elif not in_block and (not text or text[-1] != MARK):
            text.append(MARK)  # an expression's value; a tag ({% if %}) leaves nothing, so <option{% if %}> parses
        if kind == TOKEN_NAME and previous[-1:] == [TOKEN_BLOCK_BEGIN]:
            in_trans = in_trans or value == "trans"
            in_trans = in_trans and value != "endtrans"
        if kind == TOKEN_STRING and _is_prose(value[1:-1]) and not _translated(previous):
            literals.append(value[1:-1])
        previous = (previous + [value if kind in (TOKEN_NAME, "operator") else kind])[-4:]
    return "".join(text), literals


#: The names a template translates with (Flask-Admin's own templates say _gettext).
TRANSLATING = {"_", "gettext", "ngettext", "_gettext", "_ngettext"}


def _translated(previous):
    return previous[-2:-1] and previous[-1] == "(" and previous[-2] in TRANSLATING or \
        len(previous) == 4 and previous[1:] == ["(", TOKEN_STRING, ","] and previous[0] in TRANSLATING


def _is_prose(value):
    """A string literal that reads as words to a person: a capitalised word, or two words or more, one of them not
    technical, and not a list of CSS classes."""
    parts = value.split()
    if len(parts) == 1 and CAPITALISED.match(value):
        return bool(words_needing_translation(value))  # a label such as 'Replay'
    classes = all(CSS_CLASS.match(part) for part in parts) and "-" in value
    return len(parts) >= 2 and not classes and bool(words_needing_translation(value)) and not value.startswith("%")


def untranslated(source):
    """Every piece of visible text in a template source that is not inside _() or {% trans %}."""
    env = Environment(extensions=["jinja2.ext.i18n"])
    text, literals = _skeleton(env, source)
    parser = _Visible()
    parser.feed(text)
    parser.close()
    return parser.found + [f"'{value}'" for value in literals]
