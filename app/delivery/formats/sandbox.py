"""Payload templates: Jinja2 in its immutable sandbox, bounded in what a template may build and how long it runs.

The sandbox refuses attribute tricks (names starting with "_", Python internals) and any change to the data; a
template has no I/O (no loader: include, import and extends are refused when it is saved). On top of it:
- every call, filter and operator that builds something (a string repeated, text padded or replaced, a list
  joined) is refused when it would build more than MAX_WORK items;
- the output stops at MAX_OUTPUT_BYTES, and the render at MAX_RENDER_SECONDS: the deadline is checked at every
  loop iteration (a check compiled into each loop body), call, attribute or item read and output chunk;
- only the filters in SAFE_FILTERS exist, each with those bounds; text formatting (% on text, str.format) is out.
"""

import functools
import json
import threading
import time

from jinja2 import StrictUndefined, Undefined, nodes
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from app.errors import HookyardError

#: Longest template a person may save, in characters.
MAX_TEMPLATE_CHARS = 20_000
#: Largest body a template may render, in bytes.
MAX_OUTPUT_BYTES = 256 * 1024
#: How long one render may run.
MAX_RENDER_SECONDS = 0.25
#: The most items (characters, list entries) one call or operator may be asked to build.
MAX_WORK = 4 * 1024 * 1024
#: The largest range() a template may make.
MAX_RANGE = 10_000
#: Filters a template may use (the others build unbounded text, read attributes by name or are random).
SAFE_FILTERS = (
    "abs", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "first", "float", "groupby", "int",
    "items", "join", "last", "length", "list", "lower", "map", "max", "min", "reject", "rejectattr", "replace",
    "reverse", "round", "select", "selectattr", "slice", "sort", "string", "sum", "title", "trim", "truncate",
    "unique", "upper", "urlencode", "wordcount",
)
#: Name of the checkpoint compiled into every loop body.
_TICK = "hookyard_tick"


class TemplateFailed(HookyardError):
    """Raised when a payload template cannot be compiled or rendered (the message says why, for a person)."""


class _Budget(threading.local):
    """The render running on this thread: when it must end."""

    deadline = None


_budget = _Budget()


def _checkpoint():
    if _budget.deadline is not None and time.monotonic() > _budget.deadline:
        raise SecurityError(f"the template ran longer than {MAX_RENDER_SECONDS * 1000:g} ms")


def _size(value):
    if isinstance(value, bool):
        return 1
    if isinstance(value, int):
        return abs(value)
    if isinstance(value, str | bytes | list | tuple | dict | set):
        return len(value)
    return 1


def _check_work(*values):
    """Refuse to build more than MAX_WORK items from these inputs: when text or a list is among them, the two
    largest sizes multiplied bound what most builders make (text repeated, padded, replaced, joined)."""
    if not any(isinstance(value, str | bytes | list | tuple | dict | set) for value in values):
        return
    sizes = sorted((_size(value) for value in values), reverse=True)
    if sizes[0] > MAX_WORK or (len(sizes) >= 2 and sizes[0] * max(sizes[1], 1) > MAX_WORK):
        raise SecurityError(f"the template would build more than {MAX_WORK} characters or items")


def _checked_result(value):
    if isinstance(value, str | list | tuple | dict) and len(value) > MAX_WORK:
        raise SecurityError(f"the template built more than {MAX_WORK} characters or items")
    return value


def _bounded(function):
    """A filter that checks the work it is asked for and the deadline."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        _checkpoint()
        _check_work(*[a for a in args if not hasattr(a, "environment")], *kwargs.values())
        return _checked_result(function(*args, **kwargs))

    return wrapper


def tojson(value, indent=None):
    """Write a value as JSON (an undefined value fails with its own message)."""
    if isinstance(value, Undefined):
        str(value)  # StrictUndefined raises, naming what was missing
    if indent is not None and (not isinstance(indent, int) or not 0 <= indent <= 8):
        raise SecurityError("tojson: indent must be a whole number from 0 to 8")
    return json.dumps(value, ensure_ascii=False, indent=indent)


def _safe_range(*args):
    values = range(*args)
    if len(values) > MAX_RANGE:
        raise SecurityError(f"range() may make at most {MAX_RANGE} numbers")
    return values


class PayloadEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox payload templates render in."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self):
        super().__init__(undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True,
                         cache_size=0)
        filters = {name: _bounded(self.filters[name]) for name in SAFE_FILTERS}
        self.filters = {**filters, "tojson": _bounded(tojson)}
        self.globals = {"range": _safe_range, "dict": dict, "namespace": self.globals["namespace"],
                        _TICK: _checkpoint}

    def call_binop(self, context, operator, left, right):
        _checkpoint()
        if operator == "%" and isinstance(left, str):
            raise SecurityError("% formatting of text is not available: join text with ~")
        if operator == "**" and _size(right) > 64:
            raise SecurityError("the template would raise a number to a power over 64")
        _check_work(left, right)
        return _checked_result(super().call_binop(context, operator, left, right))

    def getattr(self, obj, attribute):
        _checkpoint()
        if isinstance(obj, str) and attribute in ("format", "format_map"):
            raise SecurityError("str.format is not available: join text with ~")
        return _checked_result(super().getattr(obj, attribute))

    def getitem(self, obj, argument):
        _checkpoint()
        if isinstance(obj, str) and isinstance(argument, str):  # the sandbox would fall back to an attribute
            raise SecurityError("text has no items by name")
        return _checked_result(super().getitem(obj, argument))

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805  the sandbox's own signature
        _checkpoint()
        receiver = getattr(__obj, "__self__", None)
        _check_work(*([receiver] if isinstance(receiver, str | list | tuple | dict) else []), *args, *kwargs.values())
        return _checked_result(super().call(__context, __obj, *args, **kwargs))


_environment = PayloadEnvironment()


def _refuse_unsafe(tree):
    """Refuse, when saved, what the sandbox would only refuse when rendered: other templates, private names."""
    for node in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
        raise TemplateFailed(f"line {node.lineno}: templates may not extend, include or import other templates")
    for node in tree.find_all(nodes.Getattr):
        if node.attr.startswith("_"):
            raise TemplateFailed(f"line {node.lineno}: templates may not read {node.attr!r}")
    for node in tree.find_all(nodes.Getitem):
        if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str) and node.arg.value.startswith("_"):
            raise TemplateFailed(f"line {node.lineno}: templates may not read {node.arg.value!r}")
    for node in tree.find_all(nodes.Name):
        if node.name == _TICK:
            raise TemplateFailed(f"line {node.lineno}: {_TICK} is reserved")


def _with_checkpoints(tree):
    """Put a deadline check at the start of every loop body."""
    for loop in tree.find_all(nodes.For):
        loop.body.insert(0, nodes.ExprStmt(nodes.Call(nodes.Name(_TICK, "load"), [], [], None, None),
                                           lineno=loop.lineno))
    return tree


@functools.lru_cache(maxsize=256)
def compile_template(source):
    """Compile a payload template once (cached by its text); raise TemplateFailed saying what is wrong."""
    if not isinstance(source, str) or not source.strip():
        raise TemplateFailed("the template is empty")
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateFailed(f"the template is longer than {MAX_TEMPLATE_CHARS} characters")
    try:
        tree = _environment.parse(source)
        _refuse_unsafe(tree)
        code = _environment.compile(_with_checkpoints(tree))
    except TemplateSyntaxError as exc:
        raise TemplateFailed(f"line {exc.lineno}: {exc.message}") from None
    return _environment.template_class.from_code(_environment, code, _environment.make_globals(None))


def render(source, variables):
    """Render a payload template over variables; return its text or raise TemplateFailed saying why it failed."""
    template = compile_template(source)
    _budget.deadline = time.monotonic() + MAX_RENDER_SECONDS
    try:
        chunks, size = [], 0
        for chunk in template.generate(**variables):
            size += len(chunk)
            if size > MAX_OUTPUT_BYTES:
                raise SecurityError(f"the template's output is over {MAX_OUTPUT_BYTES} bytes")
            chunks.append(chunk)
            _checkpoint()
        text = "".join(chunks)
    except SecurityError as exc:
        raise TemplateFailed(f"refused: {exc}") from None
    except TemplateError as exc:
        raise TemplateFailed(str(exc.message or exc)) from None
    except RecursionError:
        raise TemplateFailed("the template calls itself too deeply") from None
    except Exception as exc:  # noqa: BLE001  whatever a template does wrong is its failure, never the worker's
        raise TemplateFailed(f"{type(exc).__name__}: {exc}") from None
    finally:
        _budget.deadline = None
    if len(text.encode("utf-8", "surrogatepass")) > MAX_OUTPUT_BYTES:
        raise TemplateFailed(f"refused: the template's output is over {MAX_OUTPUT_BYTES} bytes")
    return text
