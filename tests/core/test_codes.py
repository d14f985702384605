"""Every error code Sluice answers is listed once, with its meaning, in apps/core/codes.py:
the codes that the apps raise and that the tests assert are all there."""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import apps
from apps.catalog.avro_values import NUMBER_LOGICAL_TYPES, STRING_LOGICAL_TYPES
from apps.core.codes import Code

ROOT = Path(apps.__file__).parent.parent
SNAKE = re.compile(r"[a-z]+(_[a-z]+)*")
LISTED = {member.value for member in Code}
# calls whose positional argument at this index is a code
CODE_ARGUMENT = {"problem": 1, "InvalidInput.field": 1, "ItemProblem": 1, "FieldProblem": 1,
                 "serializers.ValidationError": 1, "self.fail": 0}


def _name(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)


def _codes(node: ast.expr) -> Iterator[str]:
    """The codes an expression in a code's place can be: a literal or a member of Code."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.Attribute) and _name(node.value) == "Code":
        yield getattr(Code, node.attr).value  # an AttributeError names a code not listed
    elif isinstance(node, ast.IfExp):
        yield from _codes(node.body)
        yield from _codes(node.orelse)


def _sentence(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr | ast.BinOp) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str) and " " in node.value)


def _code_like(node: ast.expr) -> bool:
    codes = list(_codes(node))
    return bool(codes) and all(SNAKE.fullmatch(code) for code in codes)


def _problem_code(node: ast.Tuple) -> list[ast.expr]:
    """The code of `(attr, code, detail)`, the shape of a field problem."""
    attr_code_detail = len(node.elts) == 3 and _code_like(node.elts[1]) and (
        _sentence(node.elts[2]) or isinstance(node.elts[1], ast.Attribute))
    return [node.elts[1]] if attr_code_detail else []


def _returned_code(node: ast.Return) -> list[ast.expr]:
    """The code of `return code, detail`: a problem's description without its path."""
    if not isinstance(node.value, ast.Tuple) or len(node.value.elts) != 2:
        return []
    code, detail = node.value.elts
    return [code] if _code_like(code) and _sentence(detail) else []


def _code_places(node: ast.AST) -> list[ast.expr]:
    """The expressions of `node` that stand where a code goes."""
    if isinstance(node, ast.keyword):
        return [node.value] if node.arg == "code" else []
    if isinstance(node, ast.Assign):
        named = any(_name(target) in ("code", "default_code") for target in node.targets)
        return [node.value] if named else []
    if isinstance(node, ast.Dict):
        # a record may have a field named code: only a code-like value is taken for one
        return [value for key, value in zip(node.keys, node.values, strict=True)
                if isinstance(key, ast.Constant) and key.value == "code" and _code_like(value)]
    if isinstance(node, ast.Call):
        index = CODE_ARGUMENT.get(ast.unparse(node.func))
        return node.args[index:index + 1] if index is not None else []
    if isinstance(node, ast.Tuple):
        return _problem_code(node)
    if isinstance(node, ast.Return):
        return _returned_code(node)
    if isinstance(node, ast.Compare) and isinstance(node.left, ast.Subscript):
        asserted = isinstance(node.left.slice, ast.Constant) and node.left.slice.value == "code"
        return node.comparators if asserted else []
    return []


def codes_in(folder: str) -> dict[str, str]:
    """Each code found in a code's place in the folder's Python files, with where."""
    found = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            for code in (code for place in _code_places(node) for code in _codes(place)):
                found.setdefault(code, f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}")
    return found


def test_each_code_is_listed_once_in_snake_case():
    values = [member.value for member in Code.__members__.values()]
    assert len(values) == len(set(values))  # a repeated value would be an alias
    for name, member in Code.__members__.items():
        assert SNAKE.fullmatch(member.value) and name == member.value.upper(), name


def test_every_code_the_apps_raise_is_listed():
    found = codes_in("apps")
    assert {"duplicate_name", "storage_failed", "account_cycle", "session_expired",
            "nul_character", "out_of_range"} <= found.keys()  # the scan sees every shape
    unlisted = {code: where for code, where in found.items() if code not in LISTED}
    assert unlisted == {}


def test_the_codes_of_logical_types_are_listed():
    for logical in [*STRING_LOGICAL_TYPES, *NUMBER_LOGICAL_TYPES]:
        assert Code(f"invalid_{logical.replace('-', '_')}")


def test_every_code_the_tests_assert_is_listed():
    found = codes_in("tests")
    assert {"validation_error", "invalid_choice", "method_not_allowed"} <= found.keys()
    unlisted = {code: where for code, where in found.items() if code not in LISTED}
    assert unlisted == {}
