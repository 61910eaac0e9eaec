# syntax=docker/dockerfile:1.7
# Beacon batch jobs (`beacon ...` CLI) for SageMaker Processing. Build context: the repository root.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# One image for every batch job: embeddings refresh and training (drift adds its group later).
ARG EXTRAS=embeddings,training
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
RUN pip install --index-url "${TORCH_INDEX_URL}" torch==2.13.0
WORKDIR /src
COPY pyproject.toml README.md ./
COPY services ./services
COPY lambdas ./lambdas
RUN pip install ".[${EXTRAS}]"

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 beacon \
    && useradd --system --uid 10001 --gid beacon --home-dir /app --create-home beacon \
    && mkdir -p /opt/ml/processing \
    && chown -R beacon:beacon /opt/ml
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    BEACON_LOG_FORMAT=json
WORKDIR /app
USER 10001:10001
# SageMaker Processing passes the job's arguments after the entrypoint: `embed refresh ...`.
ENTRYPOINT ["beacon"]
CMD ["--help"]
