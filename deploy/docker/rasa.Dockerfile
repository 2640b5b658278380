# syntax=docker/dockerfile:1
# Rasa server image: Rasa Open Source 3.6.21 on Python 3.10 (it supports nothing newer),
# the project's channels, NLU components and tracker store, and a model trained at build
# time, so an image tag names exactly one model (a new model is a new image, rolled out
# replica by replica). Build from the repository root:
#   docker build -f deploy/docker/rasa.Dockerfile -t yiwen-rasa .
# Runs `python -m bot.container serve` (bot/container.py): it writes endpoints.yml from
# YIWEN_RASA_TRACKER_STORE_URL / YIWEN_RASA_LOCK_STORE_URL / YIWEN_ACTION_URL and starts
# Rasa through bot.rasa_server, which adds the admin token from YIWEN_RASA_AUTH_TOKEN:
# never pass --auth-token on a command line (every user of the node can read it).
ARG PYTHON_IMAGE=python:3.10-slim-bookworm

# --- 1. dependencies, with compilers for any source distribution (not in the final image)
FROM ${PYTHON_IMAGE} AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
COPY requirements/rasa.txt /tmp/requirements/rasa.txt
# The lock file is complete (uv pip compile): --no-deps installs exactly what it pins.
RUN /opt/venv/bin/pip install --no-deps -r /tmp/requirements/rasa.txt

# --- 2. the model: `bot.train` names it by the content hash of its inputs --------------
FROM deps AS train
WORKDIR /srv/yiwen
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/srv/yiwen RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1
COPY config.yml ./
COPY core/ core/
COPY knowledge/ knowledge/
COPY retrieval/ retrieval/
COPY channels/ channels/
COPY bot/ bot/
RUN python -m bot.train

# --- 3. run time ----------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
RUN useradd --uid 10001 --user-group --create-home --home-dir /home/yiwen yiwen
COPY --from=deps /opt/venv /opt/venv
WORKDIR /srv/yiwen
# What the Rasa process imports: the custom channels (bot/credentials.yml), the bounded
# tracker store (channels.tracker_store), the NLU components (config.yml: bot.nlu.*), and
# what those import (core, knowledge.normalize, retrieval's encoder and jieba dictionary).
COPY config.yml ./
COPY core/ core/
COPY knowledge/ knowledge/
COPY retrieval/ retrieval/
COPY channels/ channels/
COPY bot/ bot/
COPY --from=train /srv/yiwen/bot/models/ bot/models/
# One Sanic worker and one TensorFlow/OpenMP thread per replica: replicas scale by pods,
# and two replicas on one node must not fight over its cores. Request bodies are chat
# messages and WeChat pushes (a few hundred bytes): 64 KiB, as under `yiwen up`.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/srv/yiwen \
    PYTHONUNBUFFERED=1 \
    YIWEN_DATA_DIR=/data \
    SANIC_WORKERS=1 \
    TF_NUM_INTRAOP_THREADS=1 \
    TF_NUM_INTEROP_THREADS=1 \
    OMP_NUM_THREADS=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    SANIC_REQUEST_MAX_SIZE=65536 \
    SANIC_WEBSOCKET_MAX_SIZE=65536 \
    RASA_TELEMETRY_ENABLED=false
RUN mkdir -p /data && chown yiwen:yiwen /data
USER yiwen
EXPOSE 5005
# /status answers 200 only once a model is loaded (`/` answers before and drops messages
# then); it needs the token, so the probe is a Python command that reads it from the
# settings rather than a curl URL. Loading the model takes about a minute.
HEALTHCHECK --interval=15s --timeout=8s --start-period=180s --retries=3 \
  CMD ["python", "-m", "bot.container", "probe"]
ENTRYPOINT ["python", "-m", "bot.container"]
CMD ["serve"]
