"""The wheel: two packages, helpers needing nothing of the stand-in, and the stand-in working from an install.

The wheel is built offline from a copy of the sources (``pip wheel --no-build-isolation``, with this
environment's setuptools), installed with ``--no-deps --no-index`` into a fresh virtual environment,
and used from a folder outside the repository.  That environment sees this one's packages (numpy,
moto, ...) through a ``.pth`` file, since CI has no package index; its own site-packages comes first,
so ``helpers`` and ``local_archive`` are the installed copies, which the tests check.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
import urllib.request
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
# What the build reads: the project table, the readme it names, and the two packages.
SOURCES = ("pyproject.toml", "README.md", "helpers", "local_archive")
RESOURCES = ("columnsconfig.json", "datalink-core.desise", "messenger.desise")
STAND_IN_ONLY = ("moto", "werkzeug", "pyarrow", "astropy-healpix", "vcrpy")
PROJECT = "nasa-cloud-tutorial-helpers"


def _clean_env() -> dict[str, str]:
    """This environment without anything that would point a child at the repository or an archive."""
    drop = ("PYTHONPATH", "PYTHONHOME", "LOCAL_ARCHIVE_URL", "AWS_ENDPOINT_URL_S3", "IPYTHONDIR", "PIP_CONSTRAINT")
    return {k: v for k, v in os.environ.items() if k not in drop} | {"PIP_DISABLE_PIP_VERSION_CHECK": "1"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("build")
    source = work / "src"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, source / name)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "--wheel-dir", str(work / "dist"), str(source)],
                          capture_output=True, text=True, timeout=300, cwd=work, env=_clean_env())
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (built,) = (work / "dist").glob("*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh environment with the wheel installed, seeing this environment's packages behind its own."""
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    python = root / "bin" / "python"
    # Install before the .pth exists: pip would otherwise see this environment's editable install as
    # the package already being there.
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                           str(wheel)], capture_output=True, text=True, timeout=300, env=_clean_env())
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    ours = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    (site / "zz_test_environment.pth").write_text("".join(f"{path}\n" for path in ours))
    return root


@pytest.fixture
def outside(tmp_path) -> Path:
    """A working folder outside the repository, so nothing is imported from the checkout."""
    assert ROOT not in tmp_path.parents
    return tmp_path


@pytest.mark.slow
def test_the_wheel_holds_both_packages_and_the_stand_ins_data(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = Parser().parsestr(archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
                                     .decode())
    top = {name.split("/")[0] for name in names}
    assert top == {"helpers", "local_archive", "nasa_cloud_tutorial_helpers-0.1.0.dist-info"}
    assert {f"local_archive/resources/{name}" for name in RESOURCES} <= set(names)
    assert {"helpers/__init__.py", "local_archive/__main__.py", "local_archive/startup.py"} <= set(names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "/tests/" in n]
    print(f"{wheel.name}: {wheel.stat().st_size} bytes, {len(names)} files")

    # helpers' own requirements name nothing of the stand-in's; the "local" extra has all of it.
    requires = metadata.get_all("Requires-Dist")
    base = [r for r in requires if "extra ==" not in r]
    local = [r for r in requires if 'extra == "local"' in r]
    assert not [r for r in base if r.split(">")[0].split("[")[0].split(";")[0].strip() in STAND_IN_ONLY], base
    assert sorted(r.split(">")[0].split("[")[0] for r in local) == sorted(STAND_IN_ONLY)
    assert "numpy>=1.26" in base and "requests>=2.31" in base
    assert set(metadata.get_all("Provides-Extra")) >= {"local", "notebooks", "test"}


def _read_lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)


def _wait_for_environment(lines: queue.Queue, process: subprocess.Popen, timeout: float) -> dict[str, str]:
    """The ``export KEY=VALUE`` lines serve prints; LOCAL_ARCHIVE_URL comes last."""
    env: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while "LOCAL_ARCHIVE_URL" not in env:
        try:
            # Short waits, so that a serve that died (a full disk, a crash) fails the test at once.
            line = lines.get(timeout=1.0)
        except queue.Empty:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"serve printed no LOCAL_ARCHIVE_URL "
                                     f"(exit status {process.poll()}; see its log)") from None
            continue
        if line.startswith("export "):
            key, _, value = shlex.split(line)[1].partition("=")
            env[key] = value
    return env


@pytest.mark.slow
def test_serve_from_the_installed_wheel_answers_from_its_package_data_and_cleans_up(venv, outside):
    python = str(venv / "bin" / "python")
    where = subprocess.run([python, "-c", "import json, local_archive.services.names as n, importlib.resources as r; "
                            "print(json.dumps([n.__file__, str(r.files('local_archive') / 'resources')]))"],
                           capture_output=True, text=True, cwd=outside, env=_clean_env(), timeout=120)
    assert where.returncode == 0, where.stderr
    for path in json.loads(where.stdout):
        assert Path(path).is_relative_to(venv), path

    began = time.perf_counter()
    log = (outside / "serve.log").open("w+")  # a file, not a pipe nobody reads until the end
    serve = subprocess.Popen([python, "-m", "local_archive", "serve"], cwd=outside, env=_clean_env(),
                             stdout=subprocess.PIPE, stderr=log, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_read_lines, args=(serve.stdout, lines), daemon=True).start()
    try:
        env = _wait_for_environment(lines, serve, timeout=900)  # a first run generates the holdings
        ready = time.perf_counter() - began
        base = env["LOCAL_ARCHIVE_URL"]
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never a proxy
        with opener.open(f"{base}/mast.stsci.edu/portal/Mashup/Mashup.asmx/columnsconfig?colConfigId=Mast.Caom.Cone",
                         timeout=30) as answer:
            served = json.loads(answer.read())
        with opener.open(f"{base}/www.ivoa.net/rdf/messenger", timeout=30) as answer:
            vocabulary = answer.read().decode()
    finally:
        serve.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            status = serve.wait(timeout=60)
        finally:
            serve.kill()
    recorded = ROOT / "local_archive" / "resources"
    config = json.loads((recorded / "columnsconfig.json").read_text())  # every recorded column, as recorded
    assert {name: served[name] for name in config} == config
    assert vocabulary == (recorded / "messenger.desise").read_text()
    log.seek(0)
    assert status == 0, log.read()[-2000:]
    log.close()
    workdir = Path(env["IPYTHONDIR"]).parent
    assert workdir.name.startswith("local-archive-") and not workdir.exists()
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(workdir / "python")
    print(f"serve from the wheel: ready in {ready:.1f} s")


HELPERS_ALONE = """
import builtins, json, sys

# As if they were not installed: None in sys.modules makes every import of them (and of their
# submodules) raise ModuleNotFoundError, and importlib.util.find_spec report them missing, which is
# how optional-dependency probes such as astropy's HAS_PYARROW ask.
REFUSED = ("moto", "werkzeug", "local_archive", "pyarrow", "astropy_healpix")
for name in REFUSED:
    sys.modules[name] = None
attempted = []
_import = builtins.__import__

def recording_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and name.split(".")[0] in REFUSED:
        attempted.append([(globals or {}).get("__name__"), name])
    return _import(name, globals, locals, fromlist, level)

builtins.__import__ = recording_import
import ncompress
import helpers

location = helpers.parse_cloud_access('{"aws": {"bucket_name": "nasa-irsa-wise", '
                                      '"key": "wise/allwise/images/x.fits", "region": "us-west-2"}}')
print(json.dumps({
    "https_to_s3": helpers.https_to_s3("https://heasarc.gsfc.nasa.gov/FTP/rosat/data/pspc/processed_data/"
                                       "900000/rs931315n00/rs931315n00_bas.fits.Z"),
    "parse_cloud_access": [location.uri, location.region],
    "decompress_lzw": helpers.decompress_lzw(ncompress.compress(b"SIMPLE  =                    T")).decode(),
    "files": [sys.modules[name].__file__ for name in ("helpers", "helpers.cloud", "helpers.lzw")],
    "loaded": sorted(name for name, module in sys.modules.items()
                     if name.split(".")[0] in REFUSED and module is not None),
    "attempted": attempted,
}))
"""


@pytest.mark.slow
def test_helpers_from_the_wheel_work_without_anything_of_the_stand_in(venv, outside):
    done = subprocess.run([str(venv / "bin" / "python"), "-c", HELPERS_ALONE], capture_output=True, text=True,
                          cwd=outside, env=_clean_env(), timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout)
    assert seen["https_to_s3"] == ("s3://nasa-heasarc/rosat/data/pspc/processed_data/900000/rs931315n00/"
                                   "rs931315n00_bas.fits.Z")
    assert seen["parse_cloud_access"] == ["s3://nasa-irsa-wise/wise/allwise/images/x.fits", "us-west-2"]
    assert seen["decompress_lzw"] == "SIMPLE  =                    T"
    for path in seen["files"]:
        assert Path(path).is_relative_to(venv), path
    assert seen["loaded"] == []
    # Not even an attempt from helpers' own code (a library's optional import would be listed, and refused).
    assert [importer for importer, _ in seen["attempted"] if importer.split(".")[0] == "helpers"] == []
    print("refused imports by others:", seen["attempted"])


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _needed(name: str, extras: frozenset[str]) -> set[str]:
    """Every distribution ``name[extras]`` needs, transitively, as installed here (markers evaluated)."""
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(name, extras)]
    while todo:
        current, wanted = todo.pop()
        if (_canonical(current), wanted) in seen:
            continue
        seen.add((_canonical(current), wanted))
        for line in importlib.metadata.distribution(current).requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or any(requirement.marker.evaluate({"extra": extra})
                                                 for extra in (wanted or {""})):
                todo.append((requirement.name, frozenset(requirement.extras)))
    return {dist for dist, _ in seen}


@pytest.mark.skipif(os.environ.get("TOX_ENV_NAME") == "latest", reason="tox -e latest runs without constraints.txt")
def test_constraints_pin_everything_the_tests_need_at_the_installed_version():
    """constraints.txt is complete for the test extra, and this environment was installed from it."""
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[_canonical(name)] = version.strip()
    needed = _needed(PROJECT, frozenset({"test"})) - {PROJECT}
    assert {"astropy", "pyvo", "astroquery", "fsspec", "s3fs", "moto", "pytest", "setuptools"} <= needed
    installed = {name: importlib.metadata.version(name) for name in needed}
    assert sorted(needed - set(pins)) == [], "regenerate constraints.txt: python tools/freeze_constraints.py"
    assert {name: (pins[name], version) for name, version in installed.items() if pins[name] != version} == {}
