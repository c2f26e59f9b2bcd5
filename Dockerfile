# argo-python service image. Layer layout and the reasons for it: docs/image.md, "How it is built".
#
#   docker build -t argo-python .
#   docker run --rm --read-only -p 127.0.0.1:8080:8080 argo-python

# Kubernetes ignores HEALTHCHECK and probes /healthz and /readyz itself (k8s/); the image has no
# curl, and a Python probe would spawn an interpreter every interval for nothing.
# checkov:skip=CKV_DOCKER_2: Kubernetes liveness and readiness probes check the service instead

# Every stage must share one base: the virtual environment made in the builder points at the
# base's interpreter by absolute path (e.g. /usr/local/bin/python3), which the later stages then
# provide at the same place, and bytecode is only valid for the interpreter that compiled it.
# So the base is named once, in a literal FROM that Dependabot updates (it does not read an image
# from an ARG), and every stage starts from that stage. To build on another base, edit this line.
FROM python:3.11-slim-bookworm AS base

FROM base AS builder

# uv comes from PyPI (pinned) into a venv of its own, which works on any Python base, including
# a distribution's Python that refuses pip installs into the system (PEP 668).
ARG UV_VERSION=0.13.9
RUN python3 -m venv /opt/uv \
    && /opt/uv/bin/pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"

# No UV_COMPILE_BYTECODE: the bytecode stage below compiles exactly the modules the service
# imports at start, rather than every module of every package (granian's Python package, its
# ASGI/WSGI/CLI code, is never loaded: the service loads only its extension module).
ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON=python3 \
    UV_PYTHON_DOWNLOADS=never \
    UV_LINK_MODE=copy
WORKDIR /src

# Dependency layer: its only inputs are the two dependency files, so editing src/ reuses it.
# Only the service's own dependencies: no extra is named, and --no-default-groups leaves out
# every default dependency group (--no-dev would drop "dev" but keep "lint" and the others).
# click is granian's command-line parser; the service starts granian from Python and never
# imports it (the image test checks that every module loaded while serving is present).
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --locked --no-default-groups --no-install-project \
        --no-install-package click

# Project layer: the project as a wheel (hatchling reads README.md for the package metadata),
# installed under /stage with the venv's own layout and interpreter, so that the runtime stage
# can add exactly these files on top of the unchanged dependency layer. The context holds the
# service's package only: .dockerignore leaves out the deploy tool and the review bot.
COPY README.md ./
COPY src ./src
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv build --wheel --out-dir /dist \
    && /opt/uv/bin/uv pip install --no-deps --python /app/.venv/bin/python \
        --prefix /stage/app/.venv /dist/*.whl


# Bytecode: the official image ships the standard library without bytecode, and a read-only
# container cannot keep what it compiles, so every start would compile the standard modules
# the service imports. This stage starts the service as CMD does, stops it, and compiles
# what it imported (tools/image_bytecode.py reads CPython's import log): the standard modules
# into the deflated pythonXY.zip that CPython searches before the standard-library directory,
# other modules into their __pycache__. The service's own package is left to the project
# layer, and every file gets a fixed time, so the output is the same, and the runtime's
# COPY of it a cached layer, until uv.lock or the service's imports change. The files land
# under /out at their paths in the image, for one COPY.
FROM base AS bytecode
COPY --from=builder /app/.venv /app/.venv
COPY --from=builder /stage/app/.venv/ /app/.venv/
COPY tools/image_bytecode.py /tmp/
RUN /app/.venv/bin/python -B /tmp/image_bytecode.py --root /out -- /app/.venv/bin/argo-python


FROM base AS runtime

# Kubernetes' securityContext (runAsUser/runAsGroup/fsGroup) uses the same numbers.
ARG APP_UID=10001
ARG APP_GID=10001
RUN groupadd --gid "${APP_GID}" app \
    && useradd --no-log-init --uid "${APP_UID}" --gid "${APP_GID}" \
        --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin app

# The locked dependencies, unchanged by edits under src/.
COPY --from=builder /app/.venv /app/.venv

# Build-time bytecode (see the stage above), unchanged by edits under src/.
COPY --from=bytecode /out/ /

# The project itself (about 0.1 MB): the layer a change under src/ rebuilds.
COPY --from=builder /stage/app/.venv/ /app/.venv/

# The build's identity, declared as late as possible: a new revision rebuilds only what
# follows. The small bytecode step below sees these values, on purpose: buildah's layer cache
# ignores build-arg values in LABEL (containers/buildah#5501) but not in RUN, so a podman
# build with a new REVISION reruns that step and cannot reuse a LABEL with the old one.
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=unknown

# The project's bytecode, and that of the few standard modules it imports only on some
# requests, after start-up (decimal on the first large F(n); openapi, and with it typing and
# json, on the first /openapi.json). The image test fails on any module compiled while serving.
RUN /app/.venv/bin/python -c \
    "import argo_python.__main__, argo_python.server, argo_python.openapi, decimal, json"

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER ${APP_UID}:${APP_GID}
WORKDIR /app
EXPOSE 8080
# The server is PID 1 and handles SIGTERM itself (drain, then exit 0): exec form, no shell.
STOPSIGNAL SIGTERM
CMD ["/app/.venv/bin/argo-python"]
LABEL org.opencontainers.image.title="argo-python" \
      org.opencontainers.image.description="A small REST API shipped to Kubernetes through GitOps" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.version="${VERSION}"
