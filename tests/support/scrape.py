"""Reading a Prometheus text exposition the way a scraper would."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


def samples(exposition: str, name: str, **labels: str) -> list[Sample]:
    """Every sample with this name whose labels include these."""
    return [
        found
        for family in text_string_to_metric_families(exposition)
        for found in family.samples
        if found.name == name and all(found.labels.get(k) == v for k, v in labels.items())
    ]


def sample(exposition: str, name: str, **labels: str) -> float | None:
    """The value of the first sample with this name and these labels, or None."""
    found = samples(exposition, name, **labels)
    return float(found[0].value) if found else None


async def scrape(client: httpx.AsyncClient, **headers: str) -> str:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text
