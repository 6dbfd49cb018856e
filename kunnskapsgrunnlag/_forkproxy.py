"""Stand-in process for a command run by the warm-kernel server (kunnskapsgrunnlag.kernels).

`python -I -S _forkproxy.py PYTHON -m MODULE ARGS...` asks the server named by $KG_ZYGOTE to fork a
fresh child that runs `python -m MODULE ARGS...` with this process's working directory,
environment and standard streams (passed as file descriptors), then stands in for that child:
signals sent to this process are forwarded to it, and this process exits with its exit code.
If this process is killed outright, the server sees the connection close and kills the child;
if the server is not there, the command is run as it is (cold). Standard library only, started
with -I -S, so it starts in a few milliseconds.
"""

import json
import os
import select
import signal
import socket
import sys
import time


def _connect(path: str, server_pid: int) -> socket.socket:
    """Connect to the server, waiting while it is still importing (it listens once it is ready)."""
    while True:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            conn.connect(path)
            return conn
        except (FileNotFoundError, ConnectionRefusedError):
            conn.close()
            if not server_pid:
                raise
            os.kill(server_pid, 0)  # ProcessLookupError (an OSError) when the server is gone
            if os.path.exists("/proc/%d/stat" % server_pid):
                with open("/proc/%d/stat" % server_pid) as f:
                    if f.read().split(")")[-1].split()[0] == "Z":
                        raise ProcessLookupError("the warm-kernel server has exited") from None
            time.sleep(0.02)


def main() -> int:
    argv = sys.argv[1:]
    try:
        conn = _connect(os.environ["KG_ZYGOTE"], int(os.environ.get("KG_ZYGOTE_PID", "0")))
        msg = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
        socket.send_fds(conn, [msg], [0, 1, 2])
        reply = conn.recv(256).decode()
        if not reply.startswith("pid "):
            raise OSError(reply or "the warm-kernel server closed the connection")
        pid = int(reply.split()[1])
    except (OSError, KeyError, ValueError):
        os.environ.pop("KG_ZYGOTE", None)  # what it starts (its kernel) is cold too, and says so
        os.execv(argv[0], argv)  # no server: run the command itself, as a cold start

    def forward(sig, frame):
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, forward)
    parent = os.getppid()
    while True:
        ready, _, _ = select.select([conn], [], [], 1.0)
        if ready:
            data = conn.recv(256).decode()
            if data.startswith("exit "):
                code = int(data.split()[1])
                return code if code >= 0 else 128 - code
            if not data:
                return 1  # the server went away (it kills its children when it stops)
        elif os.getppid() != parent:  # whoever started us is gone: stop the child too
            forward(signal.SIGKILL, None)
            return 1


if __name__ == "__main__":
    sys.exit(main())
