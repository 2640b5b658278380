# syntax=docker/dockerfile:1
# App / action-server image (Python 3.11, requirements/app.txt). One image, two roles,
# chosen by the command:
#   default                                   the app: `yiwen serve` (tickets + knowledge
#                                             API, widget, /demo, /staff, /healthz) on 8000
#   python -m rasa_sdk --actions bot.actions --port 5055     the action server
#   python -m yiwen.cli ingest                builds the index into /data/index
# Build from the repository root:
#   docker build -f deploy/docker/app.Dockerfile -t yiwen-app .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- 1. dependencies, with compilers for any source distribution (not in the final image)
FROM ${PYTHON_IMAGE} AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
COPY requirements/app.txt /tmp/requirements/app.txt
# torch==2.13.0+cpu: PyPI has only CUDA builds of torch for Linux (gigabytes of NVIDIA
# libraries a CPU server never uses). The `+cpu` build comes from PyTorch's own CPU wheel
# index; on the development machines the same wheel comes from a local find-links folder
# (scripts/setup-env.sh). Everything else resolves from PyPI.
RUN /opt/venv/bin/pip install --no-deps \
      --extra-index-url https://download.pytorch.org/whl/cpu \
      -r /tmp/requirements/app.txt

# --- 2. run time ----------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
RUN useradd --uid 10001 --user-group --create-home --home-dir /home/yiwen yiwen
COPY --from=deps /opt/venv /opt/venv
WORKDIR /srv/yiwen
COPY pyproject.toml ./
COPY core/ core/
COPY knowledge/ knowledge/
COPY retrieval/ retrieval/
COPY tickets/ tickets/
COPY channels/ channels/
COPY bot/ bot/
COPY yiwen/ yiwen/
# YIWEN_DATA_DIR=/data: per container (outbox, generated files); /data/index is where the
# shared index volume is mounted (written by the ingest job, read by every app and action
# server). YIWEN_CORPUS_DIRS=/corpus: the documents volume, read-only; the index manifest
# is checked against it at start.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/srv/yiwen \
    PYTHONUNBUFFERED=1 \
    YIWEN_DATA_DIR=/data \
    YIWEN_CORPUS_DIRS='["/corpus"]' \
    YIWEN_HOST=0.0.0.0 \
    OMP_NUM_THREADS=1
RUN mkdir -p /data/index /corpus && chown -R yiwen:yiwen /data
USER yiwen
EXPOSE 8000 5055
# For the app role; the action server's container overrides it with GET /health on 5055.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["python", "-m", "yiwen.cli", "serve", "--host", "0.0.0.0"]
