"""The test helpers' layout holds: benchmarks and stand-ins import nothing from tests, and no test imports a conftest.

Fixtures reach a test by name through pytest; a helper a test imports lives in tests/factories.py (or a module
of its own), and one benchmarks need too lives outside tests (standins/servers.py, standins/races.py).
"""

import ast
from pathlib import Path

import pytest

from tests import ROOT


def imported_modules(path: Path) -> list[str]:
    """Return every module `path` imports, at any depth (function-level imports too)."""
    modules = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            package = "." * node.level + (node.module or "")
            modules.append(package)
            modules.extend(f"{package.rstrip('.')}.{alias.name}".lstrip(".") for alias in node.names)
    return modules


def names_conftest(module: str) -> bool:
    return "conftest" in module.strip(".").split(".")


def python_files(folder: str) -> list[Path]:
    # Not under hidden folders: bench/.litellm-venv is a virtualenv of a benchmark's own, not project code.
    files = (ROOT / folder).rglob("*.py")
    return sorted(path for path in files if not any(part.startswith(".") for part in path.relative_to(ROOT).parts))


@pytest.mark.parametrize("folder", ["bench", "standins"])
def test_benchmarks_and_standins_import_nothing_from_tests(folder):
    assert python_files(folder)
    offenders = [
        (str(path.relative_to(ROOT)), module)
        for path in python_files(folder)
        for module in imported_modules(path)
        if module == "tests" or module.startswith("tests.")
    ]
    assert offenders == []


def test_no_test_module_imports_a_conftest():
    offenders = [
        (str(path.relative_to(ROOT)), module)
        for path in python_files("tests")
        for module in imported_modules(path)
        if names_conftest(module)
    ]
    assert offenders == []


def test_the_guard_sees_imports_inside_functions(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from tests.conftest import fund\n    from . import conftest\n")
    assert [names_conftest(module) for module in imported_modules(sample)] == [True, True, False, True]
