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


def _ready_client_class():
    """jupyter_client's AsyncKernelClient whose `wait_for_ready` does not end by idling.

    jupyter_client's own version (client.py `_async_wait_for_ready`) sends kernel_info until the
    kernel answers on the shell channel and a message arrives on IOPub, then drains IOPub until it
    has been quiet for 0.2 s: 0.2 s of pure waiting before every notebook (a third of a warm
    kernel start). nbclient ignores IOPub messages that are not children of its own requests
    (their parent msg_id), so messages still on their way are harmless; this version takes what is
    already queued and goes on. The handshake itself is unchanged."""
    import time
    from queue import Empty

    from jupyter_client.asynchronous.client import AsyncKernelClient

    class ReadyClient(AsyncKernelClient):
        async def wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
            while True:
                self.kernel_info()
                try:
                    msg = await self.shell_channel.get_msg(timeout=1)
                except Empty:
                    msg = None
                if msg is not None and msg["msg_type"] == "kernel_info_reply":
                    try:
                        await self.iopub_channel.get_msg(timeout=0.2)  # IOPub is connected
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        break
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
            while True:  # what is already queued; not waiting for a quiet 0.2 s
                try:
                    await self.iopub_channel.get_msg(timeout=0)
                except Empty:
                    break

    return ReadyClient


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
        km.client_factory = _ready_client_class()
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
            # the executed notebook is written once, at the end (and on failure, with the failing
            # cell), not before and after every cell: the runner only reads the finished file
            request_save_on_cell_execute=False,
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
