"""Warm kernels: every notebook gets a fresh process whose heavy imports are already done.

Starting a notebook today costs a Python start and `import papermill` for the executor
(`python -m kunnskapsgrunnlag.nbexec`, about 3 s), a kernel start (about 1 s) and then the
notebook's own imports (pandas, geopandas, matplotlib, mapclassify and the project package, 2–4 s):
most of a short notebook's time.

Warm mode starts one server per run (`python -m kunnskapsgrunnlag.kernels serve SOCKET`, the
"zygote") that imports all of that once: papermill, ipykernel and every module the notebooks
import (read from their import statements). Nothing else runs in it: no kernel, no event loop,
no ZeroMQ context, no notebook code. For each notebook the runner starts a tiny stand-in
(`_forkproxy.py`) instead of `python -m kunnskapsgrunnlag.nbexec`; the server forks a fresh child
that runs nbexec with the stand-in's arguments, environment, working folder and standard
streams, and the kernel nbexec starts is forked the same way (a kernel spec whose command is the
stand-in in front of `python -m ipykernel_launcher`). So each notebook still runs in its own new
kernel process, started from the same state (imports only), whatever ran before it: results
cannot depend on the order. The stand-ins forward signals and exit codes, so the runner's
process-group termination (Ctrl-C) and the kernel manager's interrupt/kill work as before;
kernels still talk over IPC sockets (no port races, see nbexec).

`--cold` (or KG_COLD_KERNELS=1) starts kernels as before, for comparison (`make bench`); so does
every platform but Linux (no fork on Windows; forking after system frameworks load is unsafe on macOS).

The module also holds the run-wide notebook slots of `report --all-regions`: `--jobs N` there
means N notebooks (or renders) at once across all configurations, granted in configuration order.
"""

from __future__ import annotations

import ast
import heapq
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import cast

PROXY = Path(__file__).resolve().parent / "_forkproxy.py"
TIMING_PREFIX = "KG-TIMING "
# Always imported by the server, whatever the notebooks import: the executor and the kernel.
BASE_IMPORTS = (
    "papermill",
    "papermill.engines",
    "nbclient",
    "nbformat",
    "jupyter_client",
    "jupyter_client.manager",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "IPython",
    "IPython.display",
    "kunnskapsgrunnlag.notebook",
    "kunnskapsgrunnlag.shared",
    "pyarrow.parquet",
)

_state: dict = {"cold": os.environ.get("KG_COLD_KERNELS", "") not in ("", "0"), "server": None}
_state_lock = threading.Lock()


def set_cold(cold: bool) -> None:
    """`--cold`: start every kernel as a new Python process that imports everything itself."""
    _state["cold"] = bool(cold)


def is_cold() -> bool:
    return bool(_state["cold"])


def notebook_env() -> dict[str, str]:
    """The environment notebooks run in (the runner adds KG_RUN_DIR per notebook)."""
    return {
        **os.environ,
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        # use the kernelspec of this environment, never a stale one in ~/.local
        "JUPYTER_PREFER_ENV_PATH": "1",
    }


def notebook_imports(root: Path) -> list[str]:
    """Top-level modules the project's notebooks import (from their import statements)."""
    mods: set[str] = set()
    for nb in sorted((Path(root) / "notebooks").glob("*.ipynb")):
        try:
            cells = json.loads(nb.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError):
            continue
        for cell in cells:
            if cell.get("cell_type") != "code":
                continue
            src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            src = "\n".join(line for line in src.splitlines() if not line.lstrip().startswith(("%", "!")))
            try:
                tree = ast.parse(src)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    mods.update(a.name for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    mods.add(node.module)
                    # `from kunnskapsgrunnlag import maps`: submodules are modules too
                    mods.update(f"{node.module}.{a.name}" for a in node.names)
    return sorted(mods)


# --------------------------------------------------------------------------------------------
# The server (runs in its own process)
# --------------------------------------------------------------------------------------------
class _AsInKernel:
    """What `get_ipython()` answers during the preload: a Jupyter kernel's shell, so modules that
    choose defaults at import (pandas: `display.max_columns` 20 in a kernel, 0 in a terminal) choose
    exactly what they would choose imported inside the kernel."""

    kernel = True
    config: dict = {"IPKernelApp": {}}


def _preload(modules: list[str]) -> list[str]:
    import builtins
    import importlib

    loaded = []
    builtins.get_ipython = lambda: _AsInKernel()  # type: ignore[attr-defined]
    try:
        for m in list(BASE_IMPORTS) + list(modules):
            try:
                importlib.import_module(m)
                loaded.append(m)
            except Exception:  # noqa: BLE001 - a name imported from a module, or a failing module: the notebook says
                pass
    finally:
        del builtins.get_ipython  # type: ignore[attr-defined]
    return loaded


def _child(req: dict, fds: list[int], close: list) -> None:
    """In the forked child: become the requested `python -m MODULE ARGS` process, then exit."""
    import atexit
    import runpy
    import signal
    import traceback

    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.setpgid(0, 0)
        for c in close:
            c.close() if hasattr(c, "close") else os.close(c)
        for target, fd in enumerate(fds[:3]):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        os.chdir(req["cwd"])
        os.environ.clear()
        os.environ.update(req["env"])
        argv = req["argv"]
        if len(argv) < 3 or argv[1] != "-m":
            raise ValueError(f"the warm-kernel server runs `python -m MODULE ...` only, not {argv!r}")
        sys.argv = [argv[2], *argv[3:]]
        sys.path[0] = os.getcwd()  # as `python -m` in this folder
        if "numpy" in sys.modules:  # a new process would seed numpy's global generator afresh
            sys.modules["numpy"].random.seed()
        try:
            runpy.run_module(argv[2], run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if exc.code is not None and not isinstance(exc.code, int):
                print(exc.code, file=sys.stderr)
        except BaseException:  # noqa: BLE001 - what a Python process prints before it dies
            traceback.print_exc()
            code = 1
        atexit._run_exitfuncs()  # as at a normal exit (nbclient shuts its kernel down here)
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve(sock_path: str, root: str) -> int:
    """The zygote: preload, then fork a child per request until the runner stops us or goes away."""
    import selectors
    import signal
    import socket

    loaded = _preload(notebook_imports(Path(root)))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(sock_path)
    listener.listen(128)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *a: None)
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ)
    sel.register(wake_r, selectors.EVENT_READ)
    by_pid: dict[int, socket.socket] = {}
    by_conn: dict[socket.socket, int] = {}
    conn: socket.socket | None
    parent = os.getppid()
    print(f"ready {len(loaded)} modules", flush=True)
    try:
        while not stop and os.getppid() == parent:
            for key, _ in sel.select(timeout=1.0):
                obj = key.fileobj
                if obj is listener:
                    conn, _ = listener.accept()
                    try:
                        msg, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
                        req = json.loads(msg.decode())
                    except (OSError, ValueError) as exc:
                        conn.send(f"error {exc}".encode()[:250])
                        conn.close()
                        continue
                    sys.stdout.flush()
                    sys.stderr.flush()
                    pid = os.fork()
                    if pid == 0:
                        _child(req, fds, [sel, listener, conn, wake_r, wake_w, *by_conn])
                    for fd in fds:
                        os.close(fd)
                    by_pid[pid], by_conn[conn] = conn, pid
                    sel.register(conn, selectors.EVENT_READ)
                    conn.send(f"pid {pid}".encode())
                elif obj == wake_r:
                    try:
                        while os.read(wake_r, 512):
                            pass
                    except BlockingIOError:
                        pass
                    while True:
                        try:
                            pid, status = os.waitpid(-1, os.WNOHANG)
                        except ChildProcessError:
                            break
                        if pid == 0:
                            break
                        conn = by_pid.pop(pid, None)
                        if conn is not None:
                            by_conn.pop(conn, None)
                            sel.unregister(conn)
                            try:
                                conn.send(f"exit {os.waitstatus_to_exitcode(status)}".encode())
                            except OSError:
                                pass
                            conn.close()
                else:  # a stand-in closed its connection: it was killed, so kill its child
                    conn = cast(socket.socket, obj)  # listener and wake_r are handled above
                    if not conn.recv(256):
                        pid = by_conn.pop(conn)
                        by_pid.pop(pid, None)
                        sel.unregister(conn)
                        conn.close()
                        _kill(pid)
    finally:
        for pid in list(by_pid):
            _kill(pid)
        listener.close()
    return 0


def _kill(pid: int) -> None:
    import signal

    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
            return
        except (ProcessLookupError, PermissionError):
            continue


# --------------------------------------------------------------------------------------------
# The runner's side
# --------------------------------------------------------------------------------------------
class WarmServer:
    """One zygote process for this run (started in the background; notebooks wait for it)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.dir = tempfile.mkdtemp(prefix="kg-warm-")
        self.sock = str(Path(self.dir) / "z.sock")
        self.log = Path(self.dir) / "server.log"
        self.started = time.perf_counter()
        self.ready_at: float | None = None
        self.failed = False
        self._ready = threading.Event()
        with open(self.log, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kunnskapsgrunnlag.kernels", "serve", self.sock, str(self.root)],
                cwd=self.root / "notebooks",
                env=notebook_env(),
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                start_new_session=True,
            )
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line.startswith("ready"):
            self.ready_at = time.perf_counter()
        else:
            self.failed = True
        self._ready.set()

    def wait_ready(self, timeout: float = 300.0) -> bool:
        self._ready.wait(timeout)
        return self._ready.is_set() and not self.failed and self.proc.poll() is None

    def wrap(self, cmd: list[str]) -> list[str]:
        """The stand-in command for `python -m MODULE ...` (the command itself if the server failed).
        The stand-in waits for the server to be ready, so this never blocks."""
        if self.failed or self.proc.poll() is not None:
            return cmd
        return [sys.executable, "-I", "-S", str(PROXY), *cmd]

    def close(self) -> None:
        import signal

        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=5)
            except (ProcessLookupError, PermissionError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def warm_kernels(root: Path):
    """Warm kernels inside the `with` block: the server starts when the first notebook needs to run
    (a no-op rebuild starts nothing) and stops at the end. Nested blocks share the outer one's
    server; nothing in --cold mode."""
    with _state_lock:
        owner = "root" not in _state
        if owner:
            _state["root"] = Path(root)
    try:
        yield
    finally:
        if owner:
            with _state_lock:
                server = _state.pop("server", None)
                _state["server"] = None
                _state.pop("root", None)
            if server is not None:
                server.close()


def _server() -> WarmServer | None:
    with _state_lock:
        if _state["cold"] or "root" not in _state or not _supported():
            return None  # --cold, outside a build, or not Linux: kernels start as new processes
        if _state["server"] is None:
            _state["server"] = WarmServer(_state["root"])
        return _state["server"]


def _supported() -> bool:
    # not on Windows (no fork) nor macOS (forking a process that loaded system frameworks is unsafe)
    return sys.platform.startswith("linux")


def prestart(root: Path) -> None:
    """Start the server now, so its imports run while `report` fetches; the build's `warm_kernels`
    block then uses it and stops it. Stopped at exit if no build comes (e.g. the fetch failed)."""
    import atexit

    with _state_lock:
        if _state["cold"] or _state["server"] is not None or not _supported():
            return
        server = _state["server"] = WarmServer(root)

    def stop() -> None:
        with _state_lock:
            if _state["server"] is server and "root" not in _state:
                _state["server"] = None
        server.close()

    atexit.register(stop)


def popen(cmd: list[str], *, env: dict, **kw) -> subprocess.Popen:
    """Start `python -m kunnskapsgrunnlag.nbexec ...` (the runner's hook): through the warm server
    inside `warm_kernels`, else as a new process. Records the launch time for the timing line."""
    env = {**env, "KG_LAUNCHED_AT": repr(time.time())}
    server = _server()
    if server is not None:
        cmd = server.wrap(cmd)
        if str(PROXY) in cmd:
            env["KG_ZYGOTE"], env["KG_ZYGOTE_PID"] = server.sock, str(server.proc.pid)
    proc = subprocess.Popen(cmd, env=env, **kw)
    if _slots["slots"] is not None:
        _slots["slots"].track(proc)  # so Ctrl-C of --all-regions can stop it
    return proc


# --- in nbexec: the kernel spec of a warm kernel, and the timing line ---------------------------
def kernel_manager_kwargs() -> dict:
    """Extra AsyncKernelManager arguments: in a warm run, a kernel spec whose command goes through
    the stand-in (so the kernel is forked by the server); else nothing."""
    if not os.environ.get("KG_ZYGOTE"):
        return {}
    from jupyter_client.kernelspec import KernelSpecManager

    class WarmSpecs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            spec = super().get_kernel_spec(kernel_name)
            if spec.argv and Path(spec.argv[0]).name.startswith("python"):
                spec.argv = [sys.executable, "-I", "-S", str(PROXY), sys.executable, *spec.argv[1:]]
            return spec

    return {"kernel_spec_manager": WarmSpecs()}


class Timing:
    """Kernel start (launch -> kernel ready, imports included when warm) and execution time of one notebook."""

    def __init__(self):
        try:
            self.launched = float(os.environ.get("KG_LAUNCHED_AT", ""))
        except ValueError:
            self.launched = time.time()
        self.ready: float | None = None

    def on_notebook_start(self, **kw) -> None:
        self.ready = time.time()

    def line(self, nb=None) -> str:
        end = time.time()
        ready = self.ready or end
        cells = 0.0
        for c in getattr(nb, "cells", None) or []:
            d = (c.get("metadata", {}).get("papermill") or {}).get("duration")
            cells += float(d or 0)
        data = {
            "mode": "warm" if os.environ.get("KG_ZYGOTE") else "cold",
            "kernel_start": round(ready - self.launched, 3),
            "execution": round(end - ready, 3),
            "cells": round(cells, 3),
            "total": round(end - self.launched, 3),
        }
        return TIMING_PREFIX + json.dumps(data)


def parse_timing(log: str) -> dict | None:
    """The timing record nbexec printed (last `KG-TIMING {...}` line of its output), or None."""
    for line in reversed(log.splitlines()):
        if line.startswith(TIMING_PREFIX):
            try:
                return json.loads(line[len(TIMING_PREFIX) :])
            except ValueError:
                return None
    return None


def timing_note(t: dict | None) -> str:
    if not t:
        return ""
    return f"(kernel {t['kernel_start']:.1f} s, {t['mode']}; cells {t['cells']:.1f} s)"


# --------------------------------------------------------------------------------------------
# Run-wide notebook slots (report --all-regions): N at once across configurations, in order
# --------------------------------------------------------------------------------------------
class Slots:
    """N slots granted by priority (then request order); `cancel()` wakes every waiter with KeyboardInterrupt."""

    def __init__(self, n: int, priority: dict[str, int] | None = None):
        self.free = max(1, int(n))
        self.cond = threading.Condition()
        self.queue: list = []
        self.seq = itertools.count()
        self.priority: dict[str, int] = dict(priority or {})
        self.cancelled = threading.Event()
        self.procs: list[subprocess.Popen] = []

    @contextmanager
    def hold(self, key: str = ""):
        me = (self.priority.get(key, 0), next(self.seq))
        with self.cond:
            heapq.heappush(self.queue, me)
            try:
                while not (self.free > 0 and self.queue[0] == me):
                    if self.cancelled.is_set():
                        raise KeyboardInterrupt
                    self.cond.wait(0.5)
            finally:
                self.queue.remove(me)
                heapq.heapify(self.queue)
                self.cond.notify_all()
            self.free -= 1
        try:
            yield
        finally:
            with self.cond:
                self.free += 1
                self.cond.notify_all()
        if self.cancelled.is_set():  # what ran was stopped by cancel(): an interruption, not a failure
            raise KeyboardInterrupt

    def cancel(self, grace: float = 5.0) -> None:
        """Ctrl-C of `--all-regions`: nothing new starts; running notebooks are terminated (their
        process groups), killed after `grace` seconds."""
        import signal

        self.cancelled.set()
        with self.cond:
            self.cond.notify_all()
            procs = [p for p in self.procs if p.poll() is None]
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + grace
        for p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass

    def track(self, proc: subprocess.Popen) -> None:
        with self.cond:
            self.procs = [p for p in self.procs if p.poll() is None] + [proc]
        if self.cancelled.is_set():
            self.cancel(grace=0.5)


_slots: dict = {"slots": None}


def set_slots(slots: Slots | None) -> None:
    _slots["slots"] = slots


@contextmanager
def slot(key: str = ""):
    """Hold one of the run's notebook slots (no limit outside `--all-regions`: --jobs applies per build)."""
    s = _slots["slots"]
    if s is None:
        yield
    else:
        with s.hold(key):
            yield


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "serve":
        return serve(argv[1], argv[2])
    print("usage: python -m kunnskapsgrunnlag.kernels serve SOCKET PROJECT_ROOT", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
