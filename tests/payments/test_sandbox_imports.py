"""The Stripe sandbox is development and test tooling: no product module imports it, except
the command that starts it (`flask payments sandbox`, added by marketplace/cli.py)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import marketplace
from tests.support import parse_python

PACKAGE = Path(marketplace.__file__).parent
SANDBOX = "marketplace.payments.sandbox"
SANDBOX_DIR = PACKAGE / "payments" / "sandbox"
# The one product module allowed in, and the one sandbox module it may name.
ALLOWED = {PACKAGE / "cli.py": {f"{SANDBOX}.cli"}}


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, root: Path = PACKAGE.parent) -> Iterator[str]:
    """Every module an import statement of this file (under `root`) names, relative imports
    resolved, and every string handed to importlib.import_module or __import__. From
    `from X import Y`, both X and X.Y: Y may be a module."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(parse_python(path)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str) \
                and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("import_module", "__import__"):
            yield node.args[0].value


def within(module: str, parent: str) -> bool:
    return module == parent or module.startswith(f"{parent}.")


def names_sandbox(module: str) -> bool:
    return within(module, SANDBOX)


def test_only_the_command_that_starts_the_sandbox_imports_it():
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.is_relative_to(SANDBOX_DIR):
            continue
        named = {module for module in imported_modules(path) if names_sandbox(module)}
        allowed = ALLOWED.get(path, set())
        if any(not any(within(module, permitted) for permitted in allowed) for module in named):
            offenders[str(path.relative_to(PACKAGE.parent))] = sorted(named)
    assert offenders == {}


def test_the_walk_sees_every_way_of_importing_the_sandbox(tmp_path):
    """The walk itself would catch a product module importing the sandbox, however written."""
    package = tmp_path / "marketplace" / "payments"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    examples = {
        "absolute.py": "import marketplace.payments.sandbox.server\n",
        "from_package.py": "from marketplace.payments import sandbox\n",
        "from_module.py": "from marketplace.payments.sandbox.service import Sandbox\n",
        "relative.py": "from .sandbox import SandboxServer\n",
        "dynamic.py": "import importlib\nimportlib.import_module('marketplace.payments.sandbox.app')\n",
    }
    for name, source in examples.items():
        (package / name).write_text(source)
    seen = {name for name in examples
            if any(names_sandbox(module) for module in imported_modules(package / name, tmp_path))}
    assert seen == set(examples)
    assert not any(names_sandbox(module) for module in imported_modules(PACKAGE / "payments" / "service.py"))
