"""Execute one notebook with papermill, its kernel talking over IPC (unix) sockets.

`python -m kunnskapsgrunnlag.nbexec SOURCE OUTPUT CWD PARAMETERS_JSON` (used by the runner).
Kernels on TCP pick free ports by binding and releasing them, which races when several kernels
start at once (another `--jobs` worker, another run on the machine): the loser dies with
"Address already in use" and papermill may wait for it forever. IPC sockets in a private
temporary folder cannot collide.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path


def _stop_kernel_on_signal(km, sock_dir: str) -> None:
    """SIGTERM/SIGHUP (the runner stopping a build): kill the kernel (it runs in its own session,
    so the runner's signal to this process group does not reach it) and remove the socket folder,
    so no process or temporary file outlives the run."""

    def stop(signum, frame):
        proc = getattr(getattr(km, "provisioner", None), "process", None)
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL) if hasattr(os, "killpg") else proc.kill()
            except OSError:
                pass
        shutil.rmtree(sock_dir, ignore_errors=True)
        os._exit(128 + signum)

    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            signal.signal(sig, stop)


def main(argv: list[str]) -> int:
    src, out, cwd, params = argv
    logging.basicConfig(level=logging.ERROR)
    import papermill as pm
    from jupyter_client.manager import AsyncKernelManager

    from kunnskapsgrunnlag import kernels  # warm kernels (forked with the imports done) and the timing line

    timing = kernels.Timing()

    sock_dir = tempfile.mkdtemp(prefix="kg-kernel-")
    try:
        km = AsyncKernelManager(
            kernel_name="python3", transport="ipc", ip=str(Path(sock_dir) / "k"), **kernels.kernel_manager_kwargs()
        )
        _stop_kernel_on_signal(km, sock_dir)
        nb = pm.execute_notebook(
            src,
            out,
            parameters=json.loads(params),
            kernel_name="python3",
            cwd=cwd,
            progress_bar=False,
            km=km,
            on_notebook_start=timing.on_notebook_start,
        )
        print(timing.line(nb), file=sys.stderr)
    except pm.PapermillExecutionError as exc:
        print(f"{exc.ename}: {exc.evalue} (cell {exc.exec_count})", file=sys.stderr)
        print(timing.line(), file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(sock_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
