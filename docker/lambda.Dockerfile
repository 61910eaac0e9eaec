# syntax=docker/dockerfile:1.7
# Beacon Lambda functions on a slim Python base with the AWS Lambda runtime interface client.
# EXTRAS picks the dependency groups (bootstrap/notifier: "lambdas"; API: "serving,lambdas");
# the function's CMD names its handler. Build context: the repository root.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG EXTRAS=lambdas
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# The CPU torch wheel only for groups that embed, then the runtime interface client.
RUN case ",${EXTRAS}," in \
        *,serving,*|*,embeddings,*) pip install --index-url "${TORCH_INDEX_URL}" torch==2.13.0 ;; \
    esac \
    && pip install awslambdaric==4.2.2
WORKDIR /src
COPY docker/constraints.txt /tmp/constraints.txt
COPY pyproject.toml README.md ./
COPY services ./services
COPY lambdas ./lambdas
RUN pip install --constraint /tmp/constraints.txt ".[${EXTRAS}]"
# The RDS CA bundle lets the bootstrap verify the database certificate (sslmode=verify-full).
ADD --chmod=644 https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /opt/beacon/rds-global-bundle.pem

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="beacon-lambda" \
      org.opencontainers.image.description="Beacon Lambda functions (awslambdaric)" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 beacon \
    && useradd --system --uid 10001 --gid beacon --home-dir /tmp --no-create-home beacon
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/beacon /opt/beacon
# DAGs and requirements that the dag-sync function copies into the MWAA source bucket.
COPY pipelines /opt/beacon/pipelines
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    HF_HOME=/tmp/hf \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1
WORKDIR /opt/beacon
USER 10001:10001
ENTRYPOINT ["/opt/venv/bin/python", "-m", "awslambdaric"]
CMD ["lambdas.notifier.handler.handler"]
