"""Avro schemas checked the way the specification reads them, every problem with the path
where it stands (e.g. `schema.fields[3].type`): names, types, field attributes and defaults.
Plain Python; apps/catalog/avro.py asks fastavro for the rest."""

import re
from typing import Any

from apps.catalog.avro_values import Walk, stored_value, type_name

Problem = tuple[str, str]  # (path, message)
PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
NAMED = frozenset({"record", "error", "enum", "fixed"})
ORDERS = ("ascending", "descending", "ignore")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
NAMESPACE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class SchemaChecker:
    """Walks a schema the way Avro's specification reads it, collecting every problem with
    the path where it stands (e.g. `schema.fields[3].type`)."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.named: set[str] = set()

    def problem(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def check_type(self, value: Any, path: str, namespace: str) -> None:
        if isinstance(value, str):
            self._check_reference(value, path, namespace)
        elif isinstance(value, list):
            self._check_union(value, path, namespace)
        elif isinstance(value, dict):
            self._check_complex(value, path, namespace)
        else:
            self.problem(path, "A type is a type name, an object with `type`, or a union list.")

    def _check_reference(self, name: str, path: str, namespace: str) -> None:
        if name in PRIMITIVES:
            return
        full = name if "." in name or not namespace else f"{namespace}.{name}"
        if name not in self.named and full not in self.named:
            self.problem(
                path,
                f"Unknown type {name!r}. Use a primitive ({', '.join(sorted(PRIMITIVES))}) "
                "or the name of a record, enum or fixed defined earlier in the schema.",
            )

    def _check_union(self, branches: list[Any], path: str, namespace: str) -> None:
        if not branches:
            self.problem(path, "A union needs at least one type.")
        seen: set[str] = set()
        for index, branch in enumerate(branches):
            branch_path = f"{path}[{index}]"
            if isinstance(branch, list):
                self.problem(branch_path, "A union may not directly contain another union.")
                continue
            self.check_type(branch, branch_path, namespace)
            kind = _branch_kind(branch)
            if kind in seen:
                self.problem(branch_path, f"The union already has a {kind!r} branch.")
            seen.add(kind)

    def _check_complex(self, value: dict[str, Any], path: str, namespace: str) -> None:
        kind = value.get("type")
        if kind is None:
            self.problem(f"{path}.type", "This field is required.")
        elif kind in ("record", "error"):
            self.check_record(value, path, namespace)
        elif kind == "enum":
            self._check_enum(value, path, namespace)
        elif kind == "fixed":
            self._check_fixed(value, path, namespace)
        elif kind == "array":
            self._check_child(value, "items", path, namespace)
        elif kind == "map":
            self._check_child(value, "values", path, namespace)
        elif isinstance(kind, str) and kind in PRIMITIVES:
            self._check_logical(value, path)
        else:
            self.check_type(kind, f"{path}.type", namespace)

    def _check_child(self, value: dict[str, Any], key: str, path: str, namespace: str) -> None:
        if key not in value:
            self.problem(f"{path}.{key}", "This field is required.")
        else:
            self.check_type(value[key], f"{path}.{key}", namespace)

    def _check_logical(self, value: dict[str, Any], path: str) -> None:
        if value.get("logicalType") == "decimal" and not isinstance(value.get("precision"), int):
            self.problem(f"{path}.precision", "A decimal needs an integer `precision`.")

    def _define(self, value: dict[str, Any], path: str, namespace: str) -> str:
        """Registers a named type and answers the namespace its children inherit."""
        name = value.get("name")
        if not isinstance(name, str) or not NAME.match(name.rpartition(".")[2]):
            self.problem(f"{path}.name", "A name starts with a letter or _ and holds only "
                         "letters, digits and _.")
            return namespace
        if not NAMESPACE.match(name):
            self.problem(f"{path}.name", "A full name is dot-separated names, each starting "
                         "with a letter or _ and holding only letters, digits and _.")
            return namespace
        self._check_aliases(value, path, NAMESPACE)
        own = value.get("namespace", namespace)
        if own and (not isinstance(own, str) or not NAMESPACE.match(own)):
            self.problem(f"{path}.namespace", "A namespace is dot-separated names.")
            own = namespace
        if "." in name:
            own, _, name = name.rpartition(".")
        full = f"{own}.{name}" if own else name
        if full in self.named or name in PRIMITIVES:
            self.problem(f"{path}.name", f"The type {full!r} is defined twice.")
        self.named.add(full)
        return str(own or "")

    def check_record(self, value: dict[str, Any], path: str, namespace: str) -> None:
        inner = self._define(value, path, namespace)
        fields = value.get("fields")
        if not isinstance(fields, list):
            self.problem(f"{path}.fields", "A record needs a `fields` list.")
            return
        names: set[str] = set()
        for index, field in enumerate(fields):
            self._check_field(field, f"{path}.fields[{index}]", inner, names)

    def _check_field(self, field: Any, path: str, namespace: str, names: set[str]) -> None:
        if not isinstance(field, dict):
            self.problem(path, "A field is an object with `name` and `type`.")
            return
        name = field.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            self.problem(f"{path}.name", "A field name starts with a letter or _ and holds "
                         "only letters, digits and _.")
        elif name in names:
            self.problem(f"{path}.name", f"The field {name!r} is defined twice.")
        else:
            names.add(name)
        if "type" not in field:
            self.problem(f"{path}.type", "This field is required.")
        else:
            self.check_type(field["type"], f"{path}.type", namespace)
        if field.get("order", "ascending") not in ORDERS:
            self.problem(f"{path}.order", f"A field's order is one of {', '.join(ORDERS)}.")
        self._check_aliases(field, path, NAME)

    def _check_aliases(self, value: dict[str, Any], path: str, rule: re.Pattern[str]) -> None:
        aliases = value.get("aliases", [])
        if not isinstance(aliases, list):
            self.problem(f"{path}.aliases", "Aliases are a list of names.")
            return
        for index, alias in enumerate(aliases):
            if not isinstance(alias, str) or not rule.match(alias):
                self.problem(f"{path}.aliases[{index}]", "An alias is a name: it starts with a "
                             "letter or _ and holds only letters, digits and _"
                             + (" (a type's alias may be dotted)." if rule is NAMESPACE else "."))

    def _check_enum(self, value: dict[str, Any], path: str, namespace: str) -> None:
        self._define(value, path, namespace)
        symbols = value.get("symbols")
        if not isinstance(symbols, list) or not symbols:
            self.problem(f"{path}.symbols", "An enum needs a non-empty `symbols` list.")
            return
        for index, symbol in enumerate(symbols):
            if not isinstance(symbol, str) or not NAME.match(symbol):
                self.problem(f"{path}.symbols[{index}]", "A symbol is a name.")
        if len(set(map(str, symbols))) != len(symbols):
            self.problem(f"{path}.symbols", "Symbols must be unique.")
        if value.get("default", symbols[0]) not in symbols:
            self.problem(f"{path}.default", "An enum's default is one of its symbols "
                         f"({', '.join(map(str, symbols))}).")

    def _check_fixed(self, value: dict[str, Any], path: str, namespace: str) -> None:
        self._define(value, path, namespace)
        size = value.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            self.problem(f"{path}.size", "A fixed needs a non-negative integer `size`.")


def _branch_kind(branch: Any) -> str:
    if isinstance(branch, dict):
        kind = branch.get("type")
        return str(branch.get("name", kind)) if kind in NAMED else str(kind)
    return str(branch)


def text_problems(value: Any, path: str) -> list[Problem]:
    """The strings anywhere in a schema that PostgreSQL JSON, which keeps schemas, cannot
    hold: a NUL character, or a lone UTF-16 surrogate (which has no UTF-8 form)."""
    if isinstance(value, str):
        return _text_problem(value, path)
    if isinstance(value, list):
        return [problem for index, item in enumerate(value)
                for problem in text_problems(item, f"{path}[{index}]")]
    if isinstance(value, dict):
        return [problem for key, item in value.items()
                for problem in text_problems(key, path) + text_problems(item, f"{path}.{key}")]
    return []


def _text_problem(text: str, path: str) -> list[Problem]:
    if "\x00" in text:
        return [(path, "Sluice keeps schemas as PostgreSQL JSON, which cannot hold the NUL "
                 "character (\\u0000): leave it out.")]
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return [(path.encode("utf-8", "backslashreplace").decode("utf-8"),
                 "A lone UTF-16 surrogate (\\ud800-\\udfff without its pair) is not text: "
                 "send the whole character, or leave it out.")]
    return []


def default_problems(kind: Any, names: dict[str, Any], path: str) -> list[Problem]:
    """Every default of a parsed type that is not a value of its type, with its path."""
    if isinstance(kind, list):
        return [p for index, branch in enumerate(kind)
                for p in default_problems(branch, names, f"{path}[{index}]")]
    if not isinstance(kind, dict):
        return []
    if kind["type"] in ("array", "map"):
        child = "items" if kind["type"] == "array" else "values"
        return default_problems(kind[child], names, f"{path}.{child}")
    found: list[Problem] = []
    for index, field in enumerate(kind.get("fields", [])):
        at = f"{path}.fields[{index}]"
        if "default" in field:
            found += _default_fit(field["type"], field["default"], names, f"{at}.default")
        found += default_problems(field["type"], names, f"{at}.type")
    return found


def _default_fit(kind: Any, default: Any, names: dict[str, Any], path: str) -> list[Problem]:
    """The problems of a field's default: a value of its type (of a union's first type), with
    every field of a record that has no default of its own, and no other."""
    walk = Walk(names, first_branch=True)
    stored_value(kind, default, "default", walk)
    if default is None and walk.problems and not isinstance(kind, list):
        return [(path, f"null is not a value of {type_name(kind)}: leave the default out for "
                 "a field that must be sent.")]
    if isinstance(kind, list) and (walk.problems or walk.unknown):
        return [(path, f"A union's default is a value of its first type "
                 f"({type_name(kind[0])}); put the default's type first or change it.")]
    found = [(path, f"The default is not a value of the field's type: {detail}")
             for _, _, detail in walk.problems]
    return found + [(path, f"The default has a field its record does not: {unknown}.")
                    for unknown in walk.unknown]
