"""Find the summaries Python code writes audit entries with (app.audit.record's third argument), to check that each
is a lazy message the catalog translates: the audit log shows it in the reader's language."""

import ast


def _is_lazy(node):
    return isinstance(node, ast.Call) and getattr(node.func, "id", None) in {"_l", "lazy_gettext"} and node.args


def audit_summaries(source):
    """Return (line, msgid) for each message an audit summary in source may be made of: every _l() in the module (a
    summary, or a word of one, may be built anywhere in it, e.g. outcome.summary(verb)), and (line, None) for each
    summary record() is given as a literal, an f-string or a concatenation (record() refuses those when it runs)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        called = getattr(node.func, "id", getattr(node.func, "attr", None)) if isinstance(node, ast.Call) else None
        if called == "record" and len(node.args) >= 3 and isinstance(node.args[2], ast.Constant | ast.JoinedStr
                                                                                     | ast.BinOp):
            found.append((node.lineno, None))
        if _is_lazy(node) and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            found.append((node.lineno, node.args[0].value))
    return sorted(found, key=lambda item: (item[0], item[1] or ""))
