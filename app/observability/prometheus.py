"""The Prometheus exposition behind `/metrics`.

Several uvicorn workers: set `PROMETHEUS_MULTIPROC_DIR` to an empty directory the workers
share, before they start (the variable decides, at import, where `prometheus_client`
keeps its values). Each worker then writes its counters and histograms to files there,
and whichever worker answers a scrape sums them all: one scrape sees the whole process
group, not one worker. Empty the directory whenever the service (re)starts, or old
workers' counts are summed in. Without the variable, each process reports its own
numbers, which is right for a single worker.

The outbox backlog and the job ages are read from the database on each scrape (a grouped
query each, under a timeout), not kept in gauges the relay or the sweeper update: they are
the same numbers whichever worker
or replica is asked, it stays right when the relay runs as its own process, and an idle
service pays nothing for it between scrapes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

if TYPE_CHECKING:
    from app.outbox.backlog import OutboxBacklog
    from app.services.jobs.ages import StateAge

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST


class _Collected:
    """Hands a registry's metrics to another registry without registering them twice."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterable[Metric]:
        return self.source.collect()


class _BacklogCollector:
    def __init__(self, backlog: OutboxBacklog | None) -> None:
        self.backlog = backlog

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "reframer_outbox_backlog_up",
            "1 when this scrape could read the outbox backlog from the database, else 0.",
            value=0 if self.backlog is None else 1,
        )
        yield up
        if self.backlog is None:
            return
        pending = GaugeMetricFamily(
            "reframer_outbox_pending_messages",
            "Outbox rows not yet published, by destination.",
            labels=["destination"],
        )
        age = GaugeMetricFamily(
            "reframer_outbox_oldest_pending_age_seconds",
            "Age of the oldest unpublished outbox row, by destination.",
            labels=["destination"],
        )
        for entry in self.backlog.entries:
            pending.add_metric([entry.destination], entry.pending)
            waited = (self.backlog.measured_at - entry.oldest_created_at).total_seconds()
            age.add_metric([entry.destination], max(0.0, waited))
        yield pending
        yield age


class _JobAgesCollector:
    def __init__(self, ages: list[StateAge] | None) -> None:
        self.ages = ages

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily(
            "reframer_job_ages_up",
            "1 when this scrape could read the job ages from the database, else 0.",
            value=0 if self.ages is None else 1,
        )
        if self.ages is None:
            return
        jobs = GaugeMetricFamily(
            "reframer_jobs", "Jobs in each state that is not final.", labels=["state"]
        )
        age = GaugeMetricFamily(
            "reframer_job_oldest_age_seconds",
            "How long the oldest job in each state that is not final has been in it (0: none).",
            labels=["state"],
        )
        for entry in self.ages:
            jobs.add_metric([entry.status.value], entry.jobs)
            age.add_metric([entry.status.value], entry.oldest_age_seconds)
        yield jobs
        yield age


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROC_DIR_VARIABLE))


def render(backlog: OutboxBacklog | None, job_ages: list[StateAge] | None = None) -> bytes:
    """The text exposition: this process's (or every worker's) metrics, the outbox backlog
    and the job ages."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_mode():
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Collected(REGISTRY))
    registry.register(_BacklogCollector(backlog))
    registry.register(_JobAgesCollector(job_ages))
    return generate_latest(registry)
