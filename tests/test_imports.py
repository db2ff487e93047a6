"""What imports what: helpers and local_archive stay apart, neither has an import cycle, and imports are offline.

The graph is read from the source with ``ast`` (every ``import`` statement, function-level ones
included, and ``importlib.import_module``/``__import__`` calls with a literal name), so a lazy import
inside a function counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("helpers", "local_archive")
# Children start plain, even when this runs under the local archive (whose sitecustomize would act first).
PLAIN_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LOCAL_ARCHIVE_URL")}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute name of ``from <level dots><name> import ...`` written in ``module``."""
    if level == 0:
        return name or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]  # a module's relative imports start from its package
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The modules ``module`` imports, as absolute names; ``from pkg import sub`` counts ``pkg.sub`` when it exists."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, is_package, node.level, node.module)
            submodules = {f"{target}.{alias.name}" for alias in node.names} & known
            found.update(submodules or {target})
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                target = node.args[0].value
                if target.startswith("."):
                    dots = len(target) - len(target.lstrip("."))
                    target = _resolve(module, is_package, dots, target.lstrip(".") or None)
                found.add(target)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def _top(name: str) -> str:
    return name.split(".")[0]


def _reachable(graph: dict[str, set[str]], start: str) -> dict[str, list[str]]:
    """Every module reachable from ``start`` through the two packages, with one import chain to it."""
    chains = {start: [start]}
    todo = [start]
    while todo:
        current = todo.pop()
        for target in sorted(graph.get(current, ())):
            if target not in chains:
                chains[target] = chains[current] + [target]
                if target in graph:
                    todo.append(target)
    return chains


def test_the_graph_is_read_from_every_module(graph):
    # A check of the reader itself: known edges, function-level and relative ones included.
    assert {"helpers.cloud", "helpers.reading", "helpers.errors"} <= graph["helpers"]
    assert {"local_archive.redirect", "local_archive.startup", "local_archive.s3server"} <= graph[
        "local_archive.archive"]
    assert "local_archive.redirect" in graph["local_archive.startup"]  # from . import redirect
    assert "local_archive.archive" in graph["local_archive.__main__"]  # imported inside main()
    assert len([m for m in graph if m.startswith("helpers")]) >= 10
    assert len([m for m in graph if m.startswith("local_archive")]) >= 18


@pytest.mark.parametrize(("package", "forbidden"), [("helpers", "local_archive"), ("local_archive", "helpers")])
def test_the_packages_never_import_each_other(graph, package, forbidden):
    """Tutorials get helpers without the stand-in; the stand-in does not depend on what it tests."""
    offenders = {}
    for module in (m for m in graph if _top(m) == package):
        for target, chain in _reachable(graph, module).items():
            if _top(target) == forbidden:
                offenders[module] = " -> ".join(chain)
    assert offenders == {}


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycles_within_a_package(graph, package):
    inside = {m: {t for t in targets if t in graph and _top(t) == package}
              for m, targets in graph.items() if _top(m) == package}
    cycles = []
    state: dict[str, str] = {}

    def visit(module: str, stack: list[str]) -> None:
        state[module] = "open"
        for target in sorted(inside[module]):
            if state.get(target) == "open":
                cycles.append(" -> ".join(stack[stack.index(target):] + [target]))
            elif target not in state:
                visit(target, stack + [target])
        state[module] = "done"

    for module in sorted(inside):
        if module not in state:
            visit(module, [module])
    assert cycles == []


GUARDED_IMPORT = """
import json, pkgutil, sys
# Every lookup, connection or datagram reaches CPython's socket module as one of these audit events,
# whoever makes it.  (A bind is local: urllib3 binds ::1 at import to learn whether IPv6 works.)
NETWORK = {"socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo", "socket.gethostbyname",
           "socket.gethostbyaddr", "socket.getnameinfo"}
calls = []
def refuse_network(event, args):
    if event in NETWORK:
        calls.append(f"{event} {args!r}")
        raise AssertionError(f"network access at import time: {event} {args!r}")
sys.addaudithook(refuse_network)
import helpers, local_archive
modules = ["helpers"] + [f"helpers.{m.name}" for m in pkgutil.iter_modules(helpers.__path__)]
modules += ["local_archive.redirect", "local_archive.startup"]
for name in modules:
    __import__(name)
print(json.dumps({"modules": modules, "all": helpers.__all__, "calls": calls}))
"""


def test_import_makes_no_network_call():
    done = subprocess.run([sys.executable, "-c", GUARDED_IMPORT], capture_output=True, text=True, timeout=120,
                          env=PLAIN_ENV)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["calls"] == []  # also none that a library caught and went on without
    assert {"helpers.cloud", "helpers.reading", "helpers.s3", "helpers.lzw"} <= set(seen["modules"])
    assert {"cloud_uri", "open_fits", "cutout", "decompress_lzw"} <= set(seen["all"])


LIGHT_IMPORT = """
import json, sys
{statement}
heavy = ("moto", "werkzeug", "helpers", "boto3", "botocore", "pyarrow", "astropy_healpix", "numpy", "astropy")
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in heavy)))
"""


@pytest.mark.parametrize("statement", [
    "import local_archive.redirect",
    "import local_archive.startup",
    # What sitecustomize does under the archive: the URL rewriting imports requests, urllib and aiohttp only.
    "from local_archive.startup import activate; assert activate({'LOCAL_ARCHIVE_URL': 'http://127.0.0.1:9'})",
])
def test_what_every_process_imports_at_start_up_stays_light(statement):
    """Kernels, scripts and Dask workers import these at start-up (sitecustomize): no servers, no helpers."""
    done = subprocess.run([sys.executable, "-c", LIGHT_IMPORT.format(statement=statement)], capture_output=True,
                          text=True, timeout=120, env=PLAIN_ENV)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
