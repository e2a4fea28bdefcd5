"""moto server's own WSGI application, for uvicorn to serve to the benchmarks.

`python -m moto.server` serves it with werkzeug's development server, which closes the
connection after every response: each SQS call then pays a new TCP connection on both sides
and a new thread in moto, work a real SQS endpoint (kept-alive HTTPS) never asks of the
client. uvicorn keeps connections alive and runs the same application, unchanged (with its
own WSGI adapter: deprecated in favour of a2wsgi, which it would pick up when installed; it
says so once in moto's log).
"""

from __future__ import annotations

from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app


def create_moto_app() -> Any:
    return DomainDispatcherApplication(create_backend_app)
