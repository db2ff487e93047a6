"""The socket guard and the start-up hook: nothing leaves loopback, in this process or in the ones it starts.

Every guard check runs in a subprocess, so the guard under test never leaks into this one.  The hosts
are documentation addresses (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) and
``.invalid`` names, which route and resolve nowhere; and each subprocess proves that no refused call
even reached CPython's socket module (whose audit events fire just before the system call), with a
last audit hook that aborts any such call should the guard ever miss one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Runs before each case script.  _reached lists the socket audit events that named a test host
# (recorded by the first audit hook, before the guard's own); _tripwire, the last hook, aborts such
# an event if the guard let it through, so a failing guard still sends nothing.
PREAMBLE = '''
import json, socket, _socket, sys
TEST_HOSTS = ("192.0.2.", "198.51.100.", "203.0.113.", "2001:db8:", ".invalid")
_reached = []

def _names_test_host(event, args):
    return event.startswith("socket.") and event != "socket.__new__" and any(h in repr(args) for h in TEST_HOSTS)

def _recorder(event, args):
    if _names_test_host(event, args):
        _reached.append(event)

def _tripwire(event, args):
    if _names_test_host(event, args):
        raise RuntimeError(f"{event} reached the system call: {args!r}")

sys.addaudithook(_recorder)
# Bound before the guard exists, as a library imported earlier would have them.
early_udp = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
early_tcp = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
early_gethostbyname = _socket.gethostbyname
originals = (socket.getaddrinfo, _socket.getaddrinfo, socket.gethostbyname, socket.create_connection)
from local_archive import redirect
redirect.guard_sockets()
sys.addaudithook(_tripwire)

results = {}
def case(name, call):
    del _reached[:]
    try:
        value = call()
        results[name] = {"error": None, "value": repr(value)}
    except BaseException as exc:
        chain, cause = [], exc
        while cause is not None:
            chain.append(f"{type(cause).__name__}: {cause}")
            cause = cause.__cause__ or cause.__context__
        results[name] = {"error": type(exc).__name__, "message": str(exc), "chain": chain}
    results[name]["reached"] = list(_reached)
'''

CASES = '''
import asyncio, urllib.request
import requests

def udp():
    return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

case("getaddrinfo", lambda: socket.getaddrinfo("archive.example.invalid", 443))
case("_socket.getaddrinfo", lambda: _socket.getaddrinfo("archive.example.invalid", 443))
case("gethostbyname", lambda: socket.gethostbyname("archive.example.invalid"))
case("gethostbyname_ex", lambda: socket.gethostbyname_ex("archive.example.invalid"))
case("gethostbyaddr", lambda: socket.gethostbyaddr("192.0.2.1"))
case("getnameinfo", lambda: socket.getnameinfo(("198.51.100.7", 443), 0))
case("create_connection by name", lambda: socket.create_connection(("archive.example.invalid", 443), timeout=1))
case("create_connection by address", lambda: socket.create_connection(("192.0.2.1", 443), timeout=1))
case("connect", lambda: socket.socket().connect(("192.0.2.1", 443)))
case("connect by name", lambda: socket.socket().connect(("archive.example.invalid", 443)))
case("connect_ex", lambda: socket.socket().connect_ex(("192.0.2.1", 443)))
case("connect IPv6", lambda: socket.socket(socket.AF_INET6).connect(("2001:db8::1", 443)))
case("UDP sendto", lambda: udp().sendto(b"x", ("203.0.113.5", 53)))
case("UDP sendto with flags", lambda: udp().sendto(b"x", 0, ("203.0.113.5", 53)))
case("UDP sendto by name", lambda: udp().sendto(b"x", ("archive.example.invalid", 53)))
case("UDP sendmsg", lambda: udp().sendmsg([b"x"], [], 0, ("203.0.113.5", 53)))
case("UDP connect", lambda: udp().connect(("203.0.113.5", 53)))
case("raw _socket.socket connect", lambda: _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM).connect(
    ("archive.example.invalid", 443)))
case("raw _socket.socket sendto", lambda: _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM).sendto(
    b"x", ("archive.example.invalid", 53)))
case("asyncio by name", lambda: asyncio.run(asyncio.open_connection("archive.example.invalid", 443)))
case("asyncio by address", lambda: asyncio.run(asyncio.open_connection("192.0.2.1", 443)))
case("urllib", lambda: urllib.request.urlopen("http://192.0.2.1/x.fits", timeout=1))
case("requests", lambda: requests.get("https://archive.example.invalid/x.fits", timeout=1))
# Bound before the guard: only the audit hook sees these, just before the system call.
case("early raw socket sendto", lambda: early_udp.sendto(b"x", ("203.0.113.5", 53)))
case("early raw socket connect", lambda: early_tcp.connect(("192.0.2.1", 443)))
case("early-bound gethostbyname", lambda: early_gethostbyname("archive.example.invalid"))
print(json.dumps(results))
'''

LOOPBACK = '''
import threading
server = socket.create_server(("127.0.0.1", 0))
port = server.getsockname()[1]
threading.Thread(target=lambda: server.accept()[0].sendall(b"hello"), daemon=True).start()
case("getaddrinfo localhost", lambda: sorted({a[4][0] for a in socket.getaddrinfo("localhost", port)}) != [])
case("create_connection 127.0.0.1", lambda: socket.create_connection(("127.0.0.1", port), timeout=5).recv(5))
receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
receiver.bind(("127.0.0.1", 0))
case("UDP to loopback", lambda: (socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(
    b"ping", receiver.getsockname()), receiver.recv(4)))
case("raw socket to loopback", lambda: _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM).sendto(
    b"x", ("127.0.0.1", receiver.getsockname()[1])))
case("unix socketpair", lambda: [s.family.name for s in socket.socketpair()])
case("is_guarded", redirect.is_guarded)
redirect.unguard_sockets()
case("unguarded", lambda: (redirect.is_guarded(), _socket.socket is early_udp.__class__,
                           "connect" in vars(socket.socket),
                           originals == (socket.getaddrinfo, _socket.getaddrinfo, socket.gethostbyname,
                                         socket.create_connection)))
print(json.dumps(results))
'''

# Which call each case makes, the host the error must name, and how it is refused: "python" (by the
# patched function, before CPython's socket module is entered) or "audit" (by the audit hook, for
# objects bound before the guard existed; the recorded event shows it got that far, and no further).
EXPECTED = {
    "getaddrinfo": ("a lookup of", "archive.example.invalid", "python"),
    "_socket.getaddrinfo": ("a lookup of", "archive.example.invalid", "python"),
    "gethostbyname": ("a lookup of", "archive.example.invalid", "python"),
    "gethostbyname_ex": ("a lookup of", "archive.example.invalid", "python"),
    "gethostbyaddr": ("a lookup of", "192.0.2.1", "python"),
    "getnameinfo": ("a lookup of", "198.51.100.7", "python"),
    "create_connection by name": ("a connection to", "archive.example.invalid", "python"),
    "create_connection by address": ("a connection to", "192.0.2.1", "python"),
    "connect": ("a connection to", "192.0.2.1", "python"),
    "connect by name": ("a connection to", "archive.example.invalid", "python"),
    "connect_ex": ("a connection to", "192.0.2.1", "python"),
    "connect IPv6": ("a connection to", "2001:db8::1", "python"),
    "UDP sendto": ("a datagram to", "203.0.113.5", "python"),
    "UDP sendto with flags": ("a datagram to", "203.0.113.5", "python"),
    "UDP sendto by name": ("a datagram to", "archive.example.invalid", "python"),
    "UDP sendmsg": ("a message to", "203.0.113.5", "python"),
    "UDP connect": ("a connection to", "203.0.113.5", "python"),
    "raw _socket.socket connect": ("a connection to", "archive.example.invalid", "python"),
    "raw _socket.socket sendto": ("a datagram to", "archive.example.invalid", "python"),
    "asyncio by name": ("a lookup of", "archive.example.invalid", "python"),
    "asyncio by address": ("a connection to", "192.0.2.1", "python"),
    "early raw socket sendto": ("a datagram to", "203.0.113.5", "audit"),
    "early raw socket connect": ("a connection to", "192.0.2.1", "audit"),
    "early-bound gethostbyname": ("a lookup of", "archive.example.invalid", "audit"),
}
AUDIT_EVENTS = {"early raw socket sendto": "socket.sendto", "early raw socket connect": "socket.connect",
                "early-bound gethostbyname": "socket.gethostbyname"}


def _clean_env(**extra: str) -> dict[str, str]:
    """This environment without the local archive's variables, so that only the test's own guard acts."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("LOCAL_ARCHIVE_URL", "PYTHONPATH", "IPYTHONDIR", "AWS_ENDPOINT_URL_S3")}
    env.update(extra)
    return env


def _run_cases(body: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PREAMBLE + textwrap.dedent(body)], capture_output=True,
                          text=True, timeout=120, env=_clean_env(), cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def refused() -> dict:
    return _run_cases(CASES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_way_out_is_refused_naming_the_host_before_the_system_call(refused, name):
    what, host, where = EXPECTED[name]
    result = refused[name]
    assert result["error"] == "NonLoopbackError", result
    assert result["message"] == f"the local archive refuses {what} non-loopback host {host!r}"
    # "python": refused before CPython's socket module saw the call (no audit event at all);
    # "audit": CPython got as far as its audit event, just before the system call, and no further.
    assert result["reached"] == ([AUDIT_EVENTS[name]] if where == "audit" else [])


@pytest.mark.parametrize(("name", "host"), [("urllib", "192.0.2.1"), ("requests", "archive.example.invalid")])
def test_http_clients_fail_with_the_guard_error_naming_the_host(refused, name, host):
    """urllib and requests wrap the error in their own, but the cause is the guard's, naming the host."""
    result = refused[name]
    assert result["error"] == {"urllib": "URLError", "requests": "ConnectionError"}[name]
    guard = [link for link in result["chain"] if link.startswith("NonLoopbackError")]
    assert guard and host in guard[0], result["chain"]
    assert result["reached"] == []


def test_loopback_stays_open_and_unguarding_restores_the_socket_module():
    results = _run_cases(LOOPBACK)
    assert {name: r["error"] for name, r in results.items()} == dict.fromkeys(results)
    assert results["getaddrinfo localhost"]["value"] == "True"
    assert results["create_connection 127.0.0.1"]["value"] == "b'hello'"
    assert results["UDP to loopback"]["value"] == "(4, b'ping')"
    assert results["raw socket to loopback"]["value"] == "1"
    assert results["unix socketpair"]["value"] == "['AF_UNIX', 'AF_UNIX']"
    assert results["is_guarded"]["value"] == "True"
    # _socket.socket is the C type again, socket.socket inherits connect again, the functions are the originals.
    assert results["unguarded"]["value"] == "(False, True, False, True)"


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True), ("::ffff:127.0.0.1", True),
    ("localhost", True), ("LOCALHOST", True), ("0.0.0.0", True), ("", True), (None, True), (b"127.0.0.1", True),
    ("192.0.2.1", False), ("2001:db8::1", False), ("::ffff:192.0.2.1", False), ("localhost.example.invalid", False),
    ("127.1", False), ("3221225985", False), ("<broadcast>", False), (b"archive.example.invalid", False), (80, False),
])
def test_what_counts_as_loopback(host, loopback):
    """Unusual spellings that the C library would still resolve (127.1, a 32-bit number) are refused."""
    from local_archive.redirect import _is_loopback

    assert _is_loopback(host) is loopback


# ---- start-up: sitecustomize puts every Python process under the guard --------------------------------

PROBE = '''
import json, socket, sys
from local_archive import redirect
try:
    socket.getaddrinfo("archive.example.invalid", 443)
    refused = None
except OSError as exc:
    refused = str(exc)
print(json.dumps({"guarded": redirect.is_guarded(), "refused": refused,
                  "rewritten": redirect.rewrite("https://irsa.ipac.caltech.edu/SIA?POS=1,2"),
                  "chained": getattr(sys, "_chained_sitecustomize", None)}))
'''


@pytest.fixture
def startup_dir(tmp_path) -> Path:
    from local_archive.startup import write_sitecustomize

    folder = tmp_path / "startup"
    write_sitecustomize(folder)
    # A pre-existing sitecustomize further down the path, as Debian ships one: it must still run.
    other = tmp_path / "other"
    other.mkdir()
    (other / "sitecustomize.py").write_text("import sys\nsys._chained_sitecustomize = 'ran'\n")
    return tmp_path


def _probe(python: str, cwd: Path, **env: str) -> tuple[dict, str]:
    done = subprocess.run([python, "-c", PROBE], capture_output=True, text=True, timeout=60, cwd=cwd,
                          env=_clean_env(**env))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout), done.stderr


def test_sitecustomize_guards_a_plain_python_process_and_chains_the_one_it_shadows(startup_dir):
    path = os.pathsep.join([str(startup_dir / "startup"), str(startup_dir / "other")])
    seen, _ = _probe(sys.executable, startup_dir, PYTHONPATH=path, LOCAL_ARCHIVE_URL="http://127.0.0.1:9")
    assert seen == {"guarded": True,
                    "refused": "the local archive refuses a lookup of non-loopback host 'archive.example.invalid'",
                    "rewritten": "http://127.0.0.1:9/irsa.ipac.caltech.edu/SIA?POS=1,2", "chained": "ran"}


def test_sitecustomize_without_local_archive_url_only_chains(startup_dir):
    path = os.pathsep.join([str(startup_dir / "startup"), str(startup_dir / "other")])
    done = subprocess.run([sys.executable, "-c", "import sys; print(sys._chained_sitecustomize, "
                           "'local_archive.redirect' in sys.modules, 'requests' in sys.modules)"],
                          capture_output=True, text=True, timeout=60, cwd=startup_dir, env=_clean_env(PYTHONPATH=path))
    assert (done.returncode, done.stdout.split(), done.stderr) == (0, ["ran", "False", "False"], "")


def test_two_archives_start_up_files_on_the_path_do_not_run_each_other(startup_dir):
    """A shell holding serve's exports that then calls ``run``: two of these files on PYTHONPATH."""
    from local_archive.startup import write_sitecustomize

    write_sitecustomize(startup_dir / "second")
    path = os.pathsep.join([str(startup_dir / "startup"), str(startup_dir / "second"), str(startup_dir / "other")])
    seen, stderr = _probe(sys.executable, startup_dir, PYTHONPATH=path, LOCAL_ARCHIVE_URL="http://127.0.0.1:9")
    assert stderr == ""
    assert (seen["guarded"], seen["chained"]) == (True, "ran")


def test_an_interpreter_without_local_archive_says_it_is_not_guarded(startup_dir):
    """A ``python`` that cannot import local_archive (another installation) starts, with a warning."""
    base = getattr(sys, "_base_executable", sys.executable)
    check = subprocess.run([base, "-c", "import local_archive"], capture_output=True, cwd=startup_dir,
                           env=_clean_env(), timeout=60)
    if check.returncode == 0:
        pytest.skip(f"{base} has local_archive installed")
    done = subprocess.run([base, "-c", "print('started')"], capture_output=True, text=True, timeout=60,
                          cwd=startup_dir, env=_clean_env(PYTHONPATH=str(startup_dir / "startup"),
                                                          LOCAL_ARCHIVE_URL="http://127.0.0.1:9"))
    assert done.returncode == 0 and done.stdout == "started\n"
    assert "No module named 'local_archive'" in done.stderr
    assert "is NOT redirected to the local archive nor guarded against leaving loopback" in done.stderr


def test_stop_removes_the_environment_folder(monkeypatch):
    from local_archive import LocalArchive

    monkeypatch.setenv("PYTHONPATH", "/somewhere/else")
    archive = LocalArchive()
    archive.http.start()  # environment() needs only the servers' addresses, not the holdings
    archive.s3.start()
    env = archive.environment()
    folder = archive.workdir
    assert folder.name.startswith("local-archive-") and Path(env["IPYTHONDIR"]) == folder / "ipython"
    assert env["PYTHONPATH"] == os.pathsep.join([str(folder / "python"), "/somewhere/else"])
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == [
        "ipython/profile_default/startup/00-local-archive.py", "python/sitecustomize.py"]
    monkeypatch.setenv("PYTHONPATH", env["PYTHONPATH"])
    assert archive.environment()["PYTHONPATH"] == env["PYTHONPATH"]  # applied twice: ours only once
    archive.stop()
    assert not folder.exists() and archive.workdir is None


RUN_SCRIPT = '''
import json, multiprocessing, os, subprocess, sys
import requests

SIA = "https://irsa.ipac.caltech.edu/ibe/sia/wise/allwise/p3am_cdd?POS=83.63321,22.01446&SIZE=0.01"
CHILD = """
import json, requests, socket
answer = requests.get("%s", timeout=30)
try:
    socket.create_connection(("192.0.2.1", 443), timeout=1)
except OSError as exc:
    refused = str(exc)
print(json.dumps([answer.status_code, answer.text.count("nasa-irsa-wise"), refused]))
""" % SIA


def fetch():
    from local_archive import redirect
    answer = requests.get(SIA, timeout=30)
    return [redirect.is_guarded(), answer.status_code, answer.url.startswith(os.environ["LOCAL_ARCHIVE_URL"]),
            answer.text.count("nasa-irsa-wise")]


if __name__ == "__main__":
    seen = {"workdir": os.path.dirname(os.environ["IPYTHONDIR"]), "parent": fetch()}
    child = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True)
    seen["child"] = json.loads(child.stdout)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        seen["spawned"] = pool.apply(fetch)
    from dask.distributed import Client, LocalCluster
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        seen["dask worker"] = client.submit(fetch, pure=False).result()
    print(json.dumps(seen))
'''


@pytest.mark.slow
def test_run_points_a_plain_python_script_its_children_and_dask_workers_at_the_archive(tmp_path):
    """``python -m local_archive run -- python script.py``: the script, a subprocess, a spawned process and a
    Dask worker all reach the stand-in through requests, each guarded; the temporary folder goes at the end."""
    script = tmp_path / "script.py"
    script.write_text(RUN_SCRIPT)
    done = subprocess.run([sys.executable, "-m", "local_archive", "run", "--", sys.executable, str(script)],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path, env=_clean_env())
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    # The SIA answer for the Crab lists the four AllWISE bands, each with its cloud_access in nasa-irsa-wise.
    fetched = [True, 200, True, 4]
    assert seen["parent"] == fetched
    assert seen["child"] == [200, 4, "the local archive refuses a connection to non-loopback host '192.0.2.1'"]
    assert seen["spawned"] == fetched
    assert seen["dask worker"] == fetched
    assert os.path.basename(seen["workdir"]).startswith("local-archive-")
    assert not os.path.exists(seen["workdir"])
