"""What a claim is, defined once: the values it writes, its lease, its durations, its gates (read from the source).

The parity suite holds the behaviour; these hold the shape that keeps it one definition, so a second copy of a
claim's values, lease or interval cannot come back unnoticed.
"""

import ast
from pathlib import Path

ATTEMPT = Path(__file__).resolve().parents[2] / "app" / "delivery" / "attempt"


def _trees():
    return {path.name: ast.parse(path.read_text(), str(path)) for path in sorted(ATTEMPT.glob("*.py"))}


def _source(node):
    return ast.unparse(node)


def test_what_a_claim_sets_is_written_in_one_place():
    writes = [(name, node.lineno) for name, tree in _trees().items() for node in ast.walk(tree)
              if isinstance(node, ast.keyword) and node.arg == "status"
              and _source(node.value) == "DeliveryStatus.SENDING"]
    assert [name for name, _ in writes] == ["claim.py"], writes
    claim = _trees()["claim.py"]
    (claim_values,) = [n for n in ast.walk(claim) if isinstance(n, ast.FunctionDef) and n.name == "claim_values"]
    assert claim_values.lineno <= writes[0][1] <= claim_values.end_lineno


def test_the_lease_margin_is_read_in_one_place():
    reads = [(name, node.lineno) for name, tree in _trees().items() for node in ast.walk(tree)
             if isinstance(node, ast.Subscript) and _source(node.slice) == "'WEBHOOK_LEASE_MARGIN_SECONDS'"]
    assert len(reads) == 1, reads


def test_fixed_durations_are_named_module_constants():
    inline = []
    for name, tree in _trees().items():
        for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.Lambda)):
            for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
                arguments = [*call.args, *(keyword.value for keyword in call.keywords)]
                if _source(call.func) == "timedelta" and arguments and all(
                        isinstance(a, ast.Constant) for a in arguments):
                    inline.append((name, call.lineno, _source(call)))
    assert inline == []


def test_the_gates_live_in_their_own_module_and_claim_stays_small():
    gates = _trees()["gates.py"]
    assigned = {target.id for node in gates.body if isinstance(node, ast.Assign) for target in node.targets
                if isinstance(target, ast.Name)}
    assert "GATES" in assigned
    assert len((ATTEMPT / "claim.py").read_text().splitlines()) < 300


def test_modules_are_imported_under_their_own_names():
    aliases = [(name, alias.name, alias.asname) for name, tree in _trees().items() for node in ast.walk(tree)
               if isinstance(node, ast.Import | ast.ImportFrom) for alias in node.names
               if alias.asname and alias.asname.endswith("_") and alias.asname.rstrip("_") != alias.name]
    assert aliases == []
