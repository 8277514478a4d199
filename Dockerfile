# syntax=docker/dockerfile:1
# The service recovery decision engine: `recovery serve`, as an unprivileged user.
#
#   docker build -t service-recovery .      (or `make image`, which builds with buildah)
#   docker run -p 8080:8080 service-recovery
#
# Configuration and secrets (API keys, webhook credentials) come from RECOVERY_*
# environment variables at run time; nothing secret is copied in (.dockerignore lets
# only the sources into the build). The shipped rules are the default rules
# directory; mount a directory over /app/rules, or set RECOVERY_RULES_DIR, to
# serve others. PORT is honoured when RECOVERY_PORT is not set. The embedded ledger
# lives in /var/lib/recovery (mount a volume there to keep it); point
# RECOVERY_LEDGER_URL at PostgreSQL, or set it to `off`, in a deployment.

ARG BASE_IMAGE=debian:bookworm-slim

# --- builder: compiles durable-rules (C) and installs the pinned dependencies into a venv
# (with the `postgres` extra: deployments keep the ledger in PostgreSQL; and `tracing`, off
# unless RECOVERY_TRACING=otlp)
FROM ${BASE_IMAGE} AS builder

# Debian replaces a package version in place when it ships a security fix (the old
# one leaves the mirror), so apt versions are not pinned: the base image fixes the release.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev python3-dev python3-venv \
 && rm -rf /var/lib/apt/lists/*

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/recovery

WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY service/ service/

# Exactly the versions in constraints.txt. The optional build secret `ca-bundle` is
# for builds behind a TLS-inspecting proxy; it is mounted for this step only.
RUN --mount=type=secret,id=ca-bundle \
    if [ -s /run/secrets/ca-bundle ]; then export PIP_CERT=/run/secrets/ca-bundle; fi \
 && /opt/recovery/bin/pip install --no-cache-dir --constraint constraints.txt '.[postgres,tracing]' \
 && /opt/recovery/bin/pip check

# --- runtime: the interpreter, the venv and the rules; no compiler, no build files
FROM ${BASE_IMAGE}

# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 recovery \
 && useradd --uid 10001 --gid recovery --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin recovery \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/recovery

COPY --from=builder /opt/recovery /opt/recovery
COPY rules/ /app/rules/
COPY samples/events.jsonl /app/samples/events.jsonl

# glibc reads the MALLOC_* variables at process start; set here, `recovery serve`
# does not need to re-execute itself to set them (service/cli.py).
ENV PATH=/opt/recovery/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MALLOC_TRIM_THRESHOLD_=268435456 \
    MALLOC_MMAP_THRESHOLD_=268435456 \
    RECOVERY_HOST=0.0.0.0 \
    RECOVERY_RULES_DIR=/app/rules \
    RECOVERY_SIMULATION_EVENTS=/app/samples/events.jsonl \
    RECOVERY_LEDGER_URL=sqlite:////var/lib/recovery/ledger.sqlite3 \
    RECOVERY_LEDGER_SPOOL_DIR=/var/lib/recovery/spool

WORKDIR /app
USER 10001:10001
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD ["python3", "-c", "import os, urllib.request; port = os.environ.get('RECOVERY_PORT') or os.environ.get('PORT') or '8080'; urllib.request.urlopen(f'http://127.0.0.1:{port}/livez', timeout=2)"]

ENTRYPOINT ["recovery"]
CMD ["serve"]
