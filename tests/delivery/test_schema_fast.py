"""The fast check agrees with jsonschema on every schema it handles, and hands every other schema to it."""

import pytest
from jsonschema import Draft202012Validator

from app.delivery.schema_fast import compile_fast

SCHEMAS = [
    {"type": "object", "required": ["qr_code"], "additionalProperties": False,
     "properties": {"qr_code": {"type": "string", "pattern": "^[A-Z]{4}[0-9]{4}$"}, "n": {"type": "integer"}}},
    {"type": ["string", "null"], "minLength": 2, "maxLength": 3},
    {"type": "number", "minimum": 1, "exclusiveMaximum": 10},
    {"enum": ["paid", "fulfilled", None]},
    {"const": "x"},
    {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}}}, "minItems": 1,
     "maxItems": 2},
    {"type": "object", "additionalProperties": {"type": "boolean"}, "minProperties": 1, "maxProperties": 2},
    {"properties": {"a": False, "b": True}},
    {"pattern": "b"},
]
INSTANCES = [None, True, False, 0, 1, 1.0, 1.5, 10, -3, "", "b", "ab", "abc", "abcd", "x", "paid", "ABCD1234",
             [], [{}], [{"sku": 1}], [{"sku": "a"}, {"sku": "b"}, {}], {}, {"qr_code": "ABCD1234"},
             {"qr_code": "abcd12"}, {"qr_code": "ABCD1234", "n": 1.0}, {"qr_code": "ABCD1234", "n": True},
             {"qr_code": "ABCD1234", "extra": 1}, {"a": 1}, {"b": 1}, {"x": True, "y": False},
             {"x": True, "y": 1}, {"x": True, "y": False, "z": True}]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_the_fast_check_says_what_jsonschema_says(schema):
    fast = compile_fast(schema)
    assert fast is not None
    reference = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert [fast(i) for i in INSTANCES] == [reference.is_valid(i) for i in INSTANCES]


@pytest.mark.parametrize("schema", [
    {"$ref": "#/$defs/a", "$defs": {"a": {}}}, {"format": "email"}, {"anyOf": [{}]}, {"enum": [1, True]},
    {"prefixItems": [{}], "items": False}, {"patternProperties": {"^a": {}}, "properties": {}}, {"x-custom": 1},
    {"properties": {"a": {"multipleOf": 2}}},
])
def test_a_schema_with_a_keyword_it_does_not_handle_goes_to_jsonschema(schema):
    assert compile_fast(schema) is None
