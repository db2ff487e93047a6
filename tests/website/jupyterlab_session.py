"""JupyterLab on 127.0.0.1 for the browser tests, touching nothing outside its own temporary folder.

:class:`JupyterLab` starts ``python -m jupyter lab`` (this environment's, so kernels import the
installed ``helpers``) with a random token, a free port, ``window.jupyterapp`` exposed to the page,
and fresh Jupyter config, data and runtime folders (JupyterLab's user settings and workspaces live
in the config folder), so neither the reader's ``~/.jupyter`` nor a previous run counts.
:data:`NOTEBOOK_STATE` is the page-side script that reads the open notebook's cells from its model.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

# The current notebook as the reader's tab holds it: the kernel's status and, per code cell, its
# execution count and state, and its outputs cut down to what the test judges (no image data).
NOTEBOOK_STATE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.content.model || !panel.sessionContext) {
    return null;
  }
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = [];
  const model = panel.content.model;
  for (let i = 0; i < model.cells.length; i++) {
    const cell = model.cells.get(i);
    if (cell.type !== 'code') {
      continue;
    }
    const outputs = [];
    for (let j = 0; j < cell.outputs.length; j++) {
      const output = cell.outputs.get(j).toJSON();
      const text = Array.isArray(output.text) ? output.text.join('') : (output.text || '');
      outputs.push({type: output.output_type, name: output.name || null, text: text,
                    ename: output.ename || null, evalue: output.evalue || null});
    }
    cells.push({index: cells.length, position: i, count: cell.executionCount, state: cell.executionState,
                source: cell.sharedModel.getSource(), outputs: outputs});
  }
  return {path: panel.context.path, kernel: kernel ? kernel.status : null,
          kernelName: kernel ? kernel.name : null, cells: cells};
}"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class JupyterLab:
    """A JupyterLab server serving ``root``, its folders and log under ``workdir``.

    Parameters
    ----------
    root
        The folder the server shows (``--ServerApp.root_dir``); notebooks open relative to it.
    workdir
        An empty folder for the server's config, data and runtime folders and its log.
    env
        Extra environment for the server and so for its kernels (the local archive's, say).
    """

    def __init__(self, root: Path, workdir: Path, env: Mapping[str, str]):
        self.root = root
        self.workdir = workdir
        self.port = free_port()
        self.token = secrets.token_hex(24)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "jupyterlab.log"
        self._env = dict(env)
        self._process: subprocess.Popen | None = None
        # Loopback only, never through a proxy the environment may name.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def start(self, timeout: float = 120.0) -> JupyterLab:
        """Start the server and wait until its REST API answers."""
        folders = {name: self.workdir / name.split("_")[1].lower() for name in
                   ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR")}
        for path in folders.values():
            path.mkdir()
        # JupyterLab's user settings live in the config folder: no "get notified about Jupyter news?"
        # toast over the screenshots (news_url=None stops the fetching, not the question).
        notification = folders["JUPYTER_CONFIG_DIR"] / "lab/user-settings/@jupyterlab/apputils-extension"
        notification.mkdir(parents=True)
        (notification / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}\n')
        env = {**os.environ, **self._env, **{name: str(path) for name, path in folders.items()}}
        command = [
            sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={self.port}", "--port-retries=0",
            "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: the notebook model, for reading cells
            # No announcements or update checks: they would ask jupyterlab.github.io and pypi.org.
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",  # lists installed extensions without asking pypi.org
            # `unshare -r` (the offline runs) maps the user to root, which the server refuses by default.
            "--allow-root",
        ]
        with self.log.open("w") as log:
            # Own session: a Ctrl-C on the test run reaches pytest, which then stops the server itself.
            self._process = subprocess.Popen(command, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                             start_new_session=True)
        deadline = time.monotonic() + timeout
        while not self._answers("/api/status"):
            if self._process.poll() is not None or time.monotonic() > deadline:
                status = self._process.poll()
                self.stop()
                raise RuntimeError(f"JupyterLab did not answer on {self.base_url} (exit status {status}):\n"
                                   f"{self.log_tail()}")
            time.sleep(0.5)
        return self

    def url(self, path: str) -> str:
        """The address of ``path`` (e.g. ``lab/tree/notebooks``) with the token, which logs the page in."""
        return f"{self.base_url}/{path}?token={self.token}"

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's log (its kernels' stderr included)."""
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def stop(self, timeout: float = 60.0) -> list[int]:
        """Shut the server and its kernels down; returns the ids of processes that had to be killed."""
        if self._process is None:
            return []
        import psutil

        try:
            started = psutil.Process(self._process.pid).children(recursive=True)  # kernels, their workers
        except psutil.NoSuchProcess:
            started = []
        if self._process.poll() is None:
            # The server's own shutdown stops its kernels first; SIGTERM if it does not answer.
            if not self._answers("/api/shutdown", method="POST"):
                self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=timeout)
        _, alive = psutil.wait_procs(started, timeout=timeout)
        for process in alive:  # only what this server started, by id
            process.kill()
        self._process = None
        return [process.pid for process in alive]

    def _answers(self, path: str, method: str = "GET") -> bool:
        request = urllib.request.Request(f"{self.base_url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        try:
            with self._opener.open(request, timeout=10) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False


# Bring a cell (by its position among all cells) into view, so a screenshot shows it.
SCROLL_TO_CELL = """async position => {
  const notebook = window.jupyterapp.shell.currentWidget.content;
  notebook.activeCellIndex = position;
  await notebook.scrollToCell(notebook.widgets[position], 'start');
}"""
