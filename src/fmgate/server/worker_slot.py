"""Which worker of ``fmgate serve --workers N`` a gateway process is, and where every worker
serves its own metrics (each worker is a Prometheus scrape target of its own)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WorkerSlot:
    """Worker ``index`` (0-based) of ``count``; worker *i* serves ``/metrics`` on
    ``metrics_ports[i]``, on the same host as the gateway."""

    index: int
    count: int
    metrics_ports: tuple[int, ...]

    @property
    def number(self) -> int:
        """1-based, for people: "worker 1 of 2"."""
        return self.index + 1

    @property
    def metrics_port(self) -> int:
        """The port this worker serves its own ``/metrics`` on."""
        return self.metrics_ports[self.index]

    def describe(self) -> str:
        """One line for the status page and the main port's ``/metrics``."""
        ports = ", ".join(str(port) for port in self.metrics_ports)
        return (
            f"worker {self.number} of {self.count}; every worker serves its own metrics at "
            f"/metrics on its port ({ports}): scrape each of them and sum"
        )

    def as_json(self) -> dict[str, object]:
        return {"index": self.index, "count": self.count, "metrics_ports": list(self.metrics_ports)}
