"""Find the refusals Python code raises with words outside a translation call: an error the staff console shows
(InvalidInput and its kin) or a check_choice message given as a plain string or an f-string, where it should be
lazy_gettext (`_l`) with named placeholders."""

import ast

#: The errors whose message a staff page shows to the person who was refused.
SHOWN_ERRORS = {"InvalidInput", "BlockedAddress", "LimitReached", "SettingsRefused", "NotFound", "IllegalTransition"}
#: Helpers that raise InvalidInput with a message they are given, by the message's position.
MESSAGE_ARGUMENT = {"check_choice": 2}


def _called(node):
    return getattr(node.func, "id", None) or getattr(node.func, "attr", None)


def unwrapped_refusals(source):
    """Return (line, message as written) for each refusal in source whose message is a literal string."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        position = 0 if _called(node) in SHOWN_ERRORS else MESSAGE_ARGUMENT.get(_called(node))
        if position is None or len(node.args) <= position:
            continue
        message = node.args[position]
        if isinstance(message, ast.JoinedStr) or (isinstance(message, ast.Constant) and isinstance(message.value,
                                                                                                   str)):
            found.append((node.lineno, ast.get_source_segment(source, message)))
    return found


def placeholder_mismatches(source):
    """Return (line, msgid) for each _l()/_()/gettext() call in source whose keyword arguments are not the named
    placeholders of its message (a placeholder without a value fails only when the message is shown)."""
    import re

    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and _called(node) in {"_", "_l", "gettext", "lazy_gettext"} and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            continue
        names = {keyword.arg for keyword in node.keywords}
        if None in names or not names:  # **values, or a message without values (its % is literal)
            continue
        if set(re.findall(r"%\((\w+)\)", node.args[0].value)) != names:
            found.append((node.lineno, node.args[0].value))
    return found
