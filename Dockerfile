# The API image: `docker build -t reframer-api .` (infra/README.md pushes it to ECR).
# The same image runs the one-off migration task (`alembic upgrade head`).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: resolve the pinned wheels into a virtualenv (binary wheels only, no compiler)
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /build
# Pinned with hashes from the one resolution (`make lock`): pip checks every wheel's hash.
COPY requirements.txt ./
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --only-binary=:all: --require-hashes --requirement requirements.txt \
    && /opt/venv/bin/pip uninstall --yes pip

# ---- runtime: the virtualenv, the code, an unprivileged user; no installer, no compiler
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UVICORN_HOST=0.0.0.0 \
    UVICORN_PORT=8000 \
    UVICORN_TIMEOUT_KEEP_ALIVE=65 \
    WEB_CONCURRENCY=1
# The base image's own pip and setuptools are not needed at run time.
RUN python -m pip uninstall --yes pip setuptools wheel \
    && groupadd --system --gid 10001 reframer \
    && useradd --system --uid 10001 --gid reframer --no-create-home --shell /usr/sbin/nologin reframer
WORKDIR /srv/reframer
COPY --from=build /opt/venv /opt/venv
COPY alembic.ini ./
COPY alembic ./alembic
COPY app ./app
# The contract's models and rules, which the API imports.
COPY contracts ./contracts
# No bytecode is written at run time (PYTHONDONTWRITEBYTECODE): compiled here once instead of
# in every worker at every start.
RUN python -m compileall -q app alembic contracts
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['UVICORN_PORT'] + '/health/live', timeout=3)"]
# uvicorn reads its worker count from WEB_CONCURRENCY and the rest from UVICORN_* variables.
# X-Forwarded-For is left to the app (REFRAMER_TRUSTED_PROXY_HOPS), not rewritten by uvicorn.
CMD ["uvicorn", "--factory", "app.main:create_app"]
