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
import shutil
import sys
import tempfile
from pathlib import Path


def main(argv: list[str]) -> int:
    src, out, cwd, params = argv
    logging.basicConfig(level=logging.ERROR)
    import papermill as pm
    from jupyter_client.manager import AsyncKernelManager

    from kunnskapsgrunnlag import kernels  # warm kernels (forked with the imports done) and the timing line

    timing = kernels.Timing()

    sock_dir = tempfile.mkdtemp(prefix="kg-kernel-")
    try:
        km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sock_dir) / "k"),
                                **kernels.kernel_manager_kwargs())
        nb = pm.execute_notebook(src, out, parameters=json.loads(params), kernel_name="python3", cwd=cwd,
                                 progress_bar=False, km=km, on_notebook_start=timing.on_notebook_start)
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
