"""The app's modules import each other in one direction: the window uses the dialogs, the
dialogs use the model controller, and nothing imports the window back (issue 15)."""

from __future__ import annotations

import ast
import graphlib
import subprocess
import sys
from pathlib import Path

import pytest

import keyboard_app

PACKAGE = Path(keyboard_app.__file__).parent
#: The app and its window (the engine never imports the app; the on-screen keyboard, a
#: program of its own that the window can also open, is not part of this check).
APP_FOLDERS = ("", "ui")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def app_modules() -> dict[str, Path]:
    return {module_name(path): path for folder in APP_FOLDERS for path in sorted((PACKAGE / folder).glob("*.py"))}


def imported_by(path: Path, known: set[str]) -> set[str]:
    """Every module of ``known`` that ``path`` imports anywhere: at the top, inside a
    function, or only for type checking (a cycle there is a cycle for a reader)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            targets = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {target for target in targets if target in known}
    found.discard(name)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = app_modules()
    return {name: imported_by(path, set(modules)) for name, path in modules.items()}


def test_the_app_modules_import_each_other_without_a_cycle():
    graph = import_graph()
    assert graph["keyboard_app.ui.main_window"] >= {
        "keyboard_app.ui.model_manager", "keyboard_app.ui.retrain_dialog", "keyboard_app.ui.model_controller",
    }  # the graph is read as it should be: the window's own imports are found
    try:
        list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as e:
        pytest.fail(f"modules import each other in a circle: {' -> '.join(e.args[1])}")


@pytest.mark.parametrize("dialog", ["keyboard_app.ui.model_manager", "keyboard_app.ui.retrain_dialog"])
def test_the_dialogs_never_reach_the_window(dialog):
    graph = import_graph()
    reached, todo = set(), [dialog]
    while todo:
        for module in graph[todo.pop()] - reached:
            reached.add(module)
            todo.append(module)
    assert "keyboard_app.ui.model_controller" in reached
    assert "keyboard_app.ui.main_window" not in reached


@pytest.mark.parametrize("module", ["keyboard_app.ui.main_window", "keyboard_app.ui.model_manager",
                                    "keyboard_app.ui.retrain_dialog", "keyboard_app.ui.model_controller"])
def test_each_imports_alone(module):
    """In a fresh interpreter, first of all: no other module has to be imported before it."""
    result = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
