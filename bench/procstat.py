"""RSS and CPU time of a process and its descendants, read from Linux ``/proc`` (no psutil)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class ProcessSample:
    """One reading of a process tree: current RSS, peak RSS and CPU seconds (user + system)."""

    rss_bytes: int
    peak_rss_bytes: int
    cpu_seconds: float


def sample(pid: int) -> ProcessSample:
    """Sum of the readings of ``pid`` and every descendant still alive."""
    rss = peak = 0
    cpu = 0.0
    for member in process_tree(pid):
        try:
            member_rss, member_peak = memory_of(member)
            member_cpu = cpu_seconds_of(member)
        except (FileNotFoundError, ProcessLookupError):
            continue  # exited between listing and reading
        rss += member_rss
        peak += member_peak
        cpu += member_cpu
    return ProcessSample(rss_bytes=rss, peak_rss_bytes=peak, cpu_seconds=cpu)


def memory_of(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in bytes from ``/proc/<pid>/status``."""
    rss = peak = 0
    for line in (PROC / str(pid) / "status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
        elif line.startswith("VmHWM:"):
            peak = int(line.split()[1]) * 1024
    return rss, peak


def cpu_seconds_of(pid: int) -> float:
    """utime + stime of ``pid`` in seconds (fields 14 and 15 of ``/proc/<pid>/stat``)."""
    stat = (PROC / str(pid) / "stat").read_text()
    # The command name (field 2) is in parentheses and may contain spaces: split after it.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (by parent pid), parents first."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    tree = [pid]
    for member in tree:
        tree.extend(children.get(member, ()))
    return tree
