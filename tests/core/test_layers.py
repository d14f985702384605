"""Services, selectors, tasks and the modules they use speak the application's errors
(apps/core/exceptions.py), never an interface's: nothing below the API imports DRF. Records
are read and written by apps/records alone."""

import ast
import re
from pathlib import Path

import apps

APPS = Path(apps.__file__).parent
LAYERED = ("services.py", "services/*.py", "selectors.py", "tasks.py")
# modules that services use, or that raise errors outside any view
BELOW_THE_API = [
    "catalog/avro.py", "catalog/builtins.py", "core/codes.py", "core/exceptions.py",
    "core/bodies.py", "core/ids.py", "ingestion/buffer.py", "ingestion/limits.py",
    "ingestion/watch.py", "tracker/mapping.py", "tracker/sessions.py",
]


def modules_below_the_api() -> list[Path]:
    layered = [path for name in LAYERED for path in APPS.glob(f"*/{name}")]
    return sorted({*layered, *(APPS / name for name in BELOW_THE_API)})


def imported(path: Path) -> list[str]:
    """The modules `path` imports, by their full names."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_nothing_below_the_api_imports_rest_framework():
    modules = modules_below_the_api()
    assert all(path.is_file() for path in modules), [p for p in modules if not p.is_file()]
    assert len(modules) > len(BELOW_THE_API) + 10  # the globs found the apps' modules
    offenders = {str(path.relative_to(APPS)): name for path in modules
                 for name in imported(path)
                 if name == "rest_framework" or name.startswith("rest_framework.")}
    assert offenders == {}


def test_only_the_records_app_queries_or_writes_records():
    """Other apps read records through apps/records/selectors.py and write them through
    apps/records/services/: no module outside apps/records touches the managers."""
    manager = re.compile(r"\b(Rejected)?Record\.objects\b")
    modules = [path for path in APPS.rglob("*.py") if not path.is_relative_to(APPS / "records")]
    assert len(modules) > 50  # the glob found the apps' modules
    offenders = [str(path.relative_to(APPS)) for path in modules
                 if manager.search(path.read_text())]
    assert offenders == []
