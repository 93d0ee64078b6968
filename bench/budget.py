"""Where the machine's CPU went during a phase: each part of the path's CPU per delivery, and how busy the CPUs were.

On 2 cores an end-to-end rate is bounded by the CPU the whole path needs per delivery: the producers, the web
process, the workers, PostgreSQL, the receiver, Redis and the kernel's loopback network all share them. When the
CPUs are nearly all busy, a rate can only rise by cutting that sum, and the ratio of two such rates is about the
inverse ratio of their sums. A Budget measures the sum and its parts for one phase:

    with Budget({"worker": worker.cpu_seconds, "PostgreSQL": pg_seconds}) as budget:
        ...
    print(budget.line(count))

"the rest of the machine" is what the CPUs did besides the parts named (Redis, the kernel's network, whatever else
ran): the machine's busy time (/proc/stat) less the parts'.
"""

import os
import time

_TICK = os.sysconf("SC_CLK_TCK")


def machine_busy_seconds():
    """CPU seconds the whole machine has spent busy so far (every state of /proc/stat's cpu line but idle and
    iowait), over all its CPUs."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle, iowait = fields[3], fields[4]
    busy = sum(fields[:8]) - idle - iowait  # user nice system idle iowait irq softirq steal
    return busy / _TICK


def process_seconds(pid):
    """User + system CPU seconds of one process so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            data = stat.read()
    except OSError:
        return 0.0
    fields = data[data.rfind(b")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


class Budget:
    """The CPU each part (name -> a function returning its CPU seconds so far) used between entering and leaving
    the block, the machine's busy time, and the wall time."""

    def __init__(self, parts):
        self.parts = parts
        self.used, self.busy, self.seconds = {}, 0.0, 0.0
        self.names = list(parts)

    def __enter__(self):
        self._before = {name: read() for name, read in self.parts.items()}
        self._busy, self._started = machine_busy_seconds(), time.monotonic()
        return self

    def __exit__(self, *exc):
        self.used = {name: read() - self._before[name] for name, read in self.parts.items()}
        self.busy, self.seconds = machine_busy_seconds() - self._busy, time.monotonic() - self._started
        return False

    def add(self, name, seconds):
        """Count a part measured otherwise (by the processes themselves, say), after the block."""
        self.used[name] = seconds
        self.names.append(name)

    def per_delivery(self, count):
        """ms of CPU per delivery for each part, "rest" (the machine's busy time less the parts') and "total"."""
        figures = {name: used / count * 1000 for name, used in self.used.items()}
        figures["rest"] = max(self.busy - sum(self.used.values()), 0.0) / count * 1000
        figures["total"] = self.busy / count * 1000
        return figures

    def line(self, count):
        """One line: each part's ms per delivery, the rest, the total, and how busy the CPUs were."""
        figures = self.per_delivery(count)
        parts = ", ".join(f"{name} {figures[name]:.2f}" for name in self.names)
        share = self.busy / (self.seconds * os.cpu_count()) if self.seconds else 0.0
        return (f"CPU per delivery, ms: {parts}, the rest of the machine {figures['rest']:.2f} (Redis, the kernel's "
                f"network, others); {figures['total']:.2f} in all, the {os.cpu_count()} CPUs {share:.0%} busy")
