"""Warm kernels (kunnskapsgrunnlag/kernels.py): forked from a preloaded server, yet a fresh process
per notebook, with the same results as cold kernels."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kunnskapsgrunnlag import kernels

ROOT = Path(__file__).resolve().parent.parent


def test_notebook_imports_are_read_from_the_notebooks():
    mods = kernels.notebook_imports(ROOT)
    for m in ("pandas", "matplotlib.pyplot", "kunnskapsgrunnlag.notebook", "kunnskapsgrunnlag.maps"):
        assert m in mods


def test_timing_line_round_trips(monkeypatch):
    monkeypatch.setenv("KG_LAUNCHED_AT", repr(time.time() - 2.0))
    monkeypatch.delenv("KG_ZYGOTE", raising=False)
    t = kernels.Timing()
    t.on_notebook_start()
    rec = kernels.parse_timing("noise\n" + t.line() + "\n")
    assert rec["mode"] == "cold" and 1.9 < rec["kernel_start"] < 10 and rec["total"] >= rec["kernel_start"]
    assert "kernel" in kernels.timing_note(rec) and kernels.parse_timing("nothing") is None


def test_slots_grant_in_configuration_order():
    import threading

    slots = kernels.Slots(1)
    slots.priority = {"a": 0, "b": 1}
    order = []

    def take(key):
        with slots.hold(key):
            order.append(key)

    with slots.hold("a"):  # hold the only slot while both wait
        ts = [threading.Thread(target=take, args=(k,), daemon=True) for k in ("b", "a")]
        ts[0].start()
        time.sleep(0.1)
        ts[1].start()
        time.sleep(0.1)
        assert order == []
    for t in ts:
        t.join(5)
    assert order == ["a", "b"]  # "a" first although "b" asked first


PROBE = """
import builtins, os, sys
print(os.getpid(), os.getcwd(), os.environ.get("PROBE"), getattr(builtins, "_kg_probe", None), "pandas" in sys.modules)
print("to stderr", file=sys.stderr)
builtins._kg_probe = "dirty"
if os.environ.get("PROBE_SLEEP"):
    import time; time.sleep(60)
sys.exit(int(os.environ.get("PROBE_EXIT", "0")))
"""


@pytest.mark.slow
def test_warm_server_forks_a_fresh_process_per_command(tmp_path):
    """Each command is a new process (no state from an earlier one) with the preloaded modules,
    the caller's cwd, environment, streams and exit code; killing the stand-in kills the child."""
    (tmp_path / "kg_probe.py").write_text(PROBE, encoding="utf-8")
    cmd = [sys.executable, "-m", "kg_probe"]
    with kernels.warm_kernels(ROOT):
        outs = []
        for i, code in enumerate((0, 3)):
            env = {**os.environ, "PROBE": f"run{i}", "PROBE_EXIT": str(code)}
            p = kernels.popen(
                cmd,
                env=env,
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            out, err = p.communicate(timeout=300)
            assert p.returncode == code, err
            assert "to stderr" in err
            outs.append(out.split())
        pid0, cwd0, probe0, state0, pandas0 = outs[0]
        pid1, cwd1, probe1, state1, pandas1 = outs[1]
        assert pid0 != pid1 and cwd0 == cwd1 == str(tmp_path)
        assert (probe0, probe1) == ("run0", "run1")
        assert state0 == state1 == "None"  # the first run's change is not seen by the second
        assert pandas0 == pandas1 == "True"  # preloaded
        # Ctrl-C path of the runner: the stand-in's process group is terminated -> the child goes too
        p = kernels.popen(
            cmd,
            env={**os.environ, "PROBE_SLEEP": "1"},
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        pid = None
        for _ in range(300):
            line = p.stdout.readline()
            if line:
                pid = int(line.split()[0])
                break
        assert pid
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=10)
        for _ in range(50):
            if not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[-1][:3]:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the forked child survived its stand-in")
    assert kernels._state["server"] is None  # the server stops with the block


def _outputs(nb_path: Path) -> list:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    return [(c.get("source"), c.get("execution_count"), c.get("outputs")) for c in nb["cells"]]


@pytest.mark.slow
def test_warm_and_cold_kernels_give_identical_notebooks(fetched, tmp_path):
    """Same executed notebook (every output, image and execution count), same variables and figure
    data, warm or cold; the build log has the kernel start and execution time of each."""
    from kunnskapsgrunnlag import pipeline
    from kunnskapsgrunnlag.config import make_settings

    only = ["02_situasjonen", "03_04_arbeid"]
    res = {}
    for mode in ("warm", "cold"):  # the same folders (the parameters name them), kept apart afterwards
        s = make_settings(
            raw_dir=fetched.raw_dir, processed_dir=tmp_path / "run" / "processed", build_dir=tmp_path / "run" / "build"
        )
        kernels.set_cold(mode == "cold")
        try:
            r = pipeline.build(s, jobs=2, only=only)
        finally:
            kernels.set_cold(False)
        assert r.ok, [x.message for x in r.steps]
        for n in only:
            t = kernels.parse_timing((s.build_dir / "logs" / f"{n}.log").read_text(encoding="utf-8"))
            assert t and t["mode"] == mode, t
            step = next(x for x in r.steps if x.notebook == n)
            assert f"kernel {t['kernel_start']:.1f} s, {mode}" in step.message
        res[mode] = (tmp_path / "run").rename(tmp_path / mode) / "build"
    w, c = res["warm"], res["cold"]
    for n in only:
        assert _outputs(w / "notebooks" / f"{n}.ipynb") == _outputs(c / "notebooks" / f"{n}.ipynb"), n
        assert (w / "variables" / f"{n}.yml").read_bytes() == (c / "variables" / f"{n}.yml").read_bytes()
    figs = sorted(p.name for p in (w / "figurdata").glob("*.csv"))
    assert figs and figs == sorted(p.name for p in (c / "figurdata").glob("*.csv"))
    for f in figs:
        assert (w / "figurdata" / f).read_bytes() == (c / "figurdata" / f).read_bytes(), f
