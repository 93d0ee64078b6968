"""A fast yes for the common JSON Schemas: most event types use only type, properties, required, enum, pattern,
lengths, bounds and items, and most payloads satisfy them. jsonschema walks such a schema keyword by keyword through
its general machinery (about 100 us for a 1 KB order); the same checks as plain closures take a few us.

compile_fast(schema) returns a function answering True only when jsonschema would find no error, or None when the
schema uses a keyword it does not handle (jsonschema alone is used then). A False answer is never final: the caller
asks jsonschema, which words the refusal (and has the last word). Keywords handled, with jsonschema's semantics
(Draft 2020-12): type, properties, required, additionalProperties (without patternProperties), items (without
prefixItems), enum and const (of strings and null), pattern (re.search), minLength, maxLength, minimum, maximum,
exclusiveMinimum, exclusiveMaximum, minItems, maxItems, minProperties, maxProperties; annotations are ignored.
"""

import re

#: Keywords that only annotate: they never refuse an instance.
ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "$defs", "title", "description", "default", "examples",
                         "deprecated", "readOnly", "writeOnly", "contentMediaType", "contentEncoding"})
_BOUNDS = {"minimum": lambda v, b: v >= b, "maximum": lambda v, b: v <= b,
           "exclusiveMinimum": lambda v, b: v > b, "exclusiveMaximum": lambda v, b: v < b}
_TYPES = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


class _Unsupported(Exception):
    """Raised while compiling when a schema uses a keyword this module does not handle."""


def compile_fast(schema):
    """A function instance -> True (jsonschema finds no error) or False (ask jsonschema); None if unsupported."""
    try:
        return _compile(schema)
    except _Unsupported:
        return None


def _compile(schema):
    if schema is True or schema == {}:
        return lambda value: True
    if schema is False:
        return lambda value: False
    if not isinstance(schema, dict):
        raise _Unsupported()
    checks = []
    for keyword, argument in schema.items():
        if keyword in ANNOTATIONS or keyword in ("additionalProperties", "properties"):
            continue
        checks.append(_keyword(keyword, argument, schema))
    if "properties" in schema or "additionalProperties" in schema:
        checks.append(_properties(schema))
    if len(checks) == 1:
        return checks[0]

    def check(value):
        for one in checks:
            if not one(value):
                return False
        return True

    return check


def _keyword(keyword, argument, schema):  # noqa: C901  one branch per keyword reads best
    if keyword == "type":
        names = [argument] if isinstance(argument, str) else argument
        if not isinstance(names, list) or not all(n in _TYPES for n in names):
            raise _Unsupported()
        tests = [_TYPES[n] for n in names]
        if len(tests) == 1:
            return tests[0]
        return lambda v: any(test(v) for test in tests)
    if keyword == "required":
        return lambda v: not isinstance(v, dict) or all(name in v for name in argument)
    if keyword in ("enum", "const"):
        values = argument if keyword == "enum" else [argument]
        if not isinstance(values, list) or not all(x is None or isinstance(x, str) for x in values):
            raise _Unsupported()
        allowed = frozenset(values)
        return lambda v: (v is None or isinstance(v, str)) and v in allowed
    if keyword == "pattern":
        search = re.compile(argument).search
        return lambda v: not isinstance(v, str) or search(v) is not None
    if keyword == "minLength":
        return lambda v: not isinstance(v, str) or len(v) >= argument
    if keyword == "maxLength":
        return lambda v: not isinstance(v, str) or len(v) <= argument
    if keyword in _BOUNDS:
        compare, number = _BOUNDS[keyword], _TYPES["number"]
        return lambda v: not number(v) or compare(v, argument)
    if keyword in ("minItems", "maxItems", "minProperties", "maxProperties"):
        kind = list if keyword.endswith("Items") else dict
        low = keyword.startswith("min")
        return lambda v: not isinstance(v, kind) or (len(v) >= argument if low else len(v) <= argument)
    if keyword == "items" and "prefixItems" not in schema:
        item = _compile(argument)
        return lambda v: not isinstance(v, list) or all(item(x) for x in v)
    raise _Unsupported()


def _properties(schema):
    if "patternProperties" in schema:
        raise _Unsupported()
    known = {name: _compile(sub) for name, sub in (schema.get("properties") or {}).items()}
    extra = schema.get("additionalProperties", True)
    other = None if extra is True else _compile(extra)

    def check(value):
        if not isinstance(value, dict):
            return True
        for name, item in value.items():
            test = known.get(name, other)
            if test is not None and not test(item):
                return False
        return True

    return check
