"""Run a Python script and print its own peak resident memory: `python bench/peak_rss.py SCRIPT ARGS...`
prints `peak_rss_mb <MB>` on stderr when SCRIPT ends (VmHWM of /proc/self/status).

Why not `getrusage(RUSAGE_CHILDREN)` in the caller: Linux keeps a process's maximum resident size across
fork and exec, so a child started by a large bench process reports at least the bench's own size (a
100k-row bench showed 1.2 GB for a report that peaked at 0.4 GB). VmHWM belongs to the address space
exec makes, so it counts the script alone.
"""

import atexit
import runpy
import sys
from pathlib import Path


def peak_mb_reset() -> None:
    """Start this process's peak over from its present size (Linux >= 4.0: "5" resets VmHWM), so a
    step's own peak can be read in a process that did something larger before it."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


def peak_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    atexit.register(lambda: print(f"peak_rss_mb {peak_mb():.1f}", file=sys.stderr, flush=True))
    script, *arguments = sys.argv[1:]
    sys.argv = [script, *arguments]
    sys.path[0] = str(Path(script).resolve().parent)  # as `python SCRIPT` would have it
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
