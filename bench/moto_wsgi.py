"""moto server's own WSGI application, for the benchmarks' moto process (bench/stack.py).

`python -m moto.server` serves it with werkzeug's development server, which closes the
connection after every response: each SQS call then pays a new TCP connection on both sides
and a new thread in moto, work a real SQS endpoint (kept-alive HTTPS) never asks of the
client. Both servers used instead keep connections alive and run the same application,
unchanged: uvicorn on CPython (with its own WSGI adapter: deprecated in favour of a2wsgi,
which it would pick up when installed; it says so once in moto's log), and waitress on PyPy
(`waitress-serve --call bench.moto_wsgi:create_moto_app`), where uvicorn has neither uvloop
nor httptools. This module imports nothing but moto, so both interpreters can load it.
"""

from __future__ import annotations

from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app


def create_moto_app() -> Any:
    return DomainDispatcherApplication(create_backend_app)
