# syntax=docker/dockerfile:1
#
# The Rasa server image: `python -m runtime run` (Rasa with the project's patches)
# with the model trained during the build, the spaCy pipeline it reads, and the chat
# widget's bundle and demo pages as static files under /app/widget.
#
#   podman build --format docker -f deploy/docker/rasa.Dockerfile -t careers-rasa .
#
# (`--format docker` keeps the HEALTHCHECK: podman's default OCI format drops it.)
# Three stages: the widget is bundled with Node, the virtual env is installed, the
# spaCy pipeline built and the model trained in a Python stage, and the last stage
# takes only their results: no npm, no pip cache, no training data, no tests.
# docs/containers.md says how to run it and which settings it needs.

# Base images, pinned by tag and digest. Changing either is a reviewed update (see
# docs/containers.md); a build may pass others with --build-arg.
# Python 3.11: Rasa 3.6.21 declares below 3.11 but runs on it with one patch
# (docs/security.md, The platform). The digest is one a public project pinned for this
# tag; refresh it before a release (docs/containers.md).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91
ARG NODE_IMAGE=node:20.20.2-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0

# ---- 1. The chat widget: one JavaScript file, from widget/package-lock.json ----
FROM ${NODE_IMAGE} AS widget
WORKDIR /widget
COPY widget/package.json widget/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY widget/build.mjs ./
COPY widget/src/ ./src/
RUN npm run --silent build

# ---- 2. Virtual env, spaCy pipeline and model ----
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    TF_DETERMINISTIC_OPS=1 \
    PYTHONWARNINGS=ignore::DeprecationWarning \
    SQLALCHEMY_SILENCE_UBER_WARNING=1
WORKDIR /app
# Every package has a wheel for Linux x86-64 on Python 3.11 but matplotlib 3.5 (Rasa's
# cap) and a few pure-Python ones: matplotlib is built first, as the Makefile builds it,
# against Debian's FreeType and Qhull (tools/running/mplsetup.cfg) with the lock's numpy,
# so this stage has a compiler and the final one only those two libraries. pip stays
# below 24.1, as in the Makefile; Rasa's "below 3.11" is ignored, as there.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends g++ pkg-config libfreetype-dev libqhull-dev \
    && rm -rf /var/lib/apt/lists/*
COPY requirements-lock.txt deploy/docker/rasa-requirements.txt tools/running/mplsetup.cfg /tmp/requirements/
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir "pip==24.0" \
    && grep -E '^numpy==' /tmp/requirements/requirements-lock.txt >/tmp/requirements/build-constraints.txt \
    && MPLSETUPCFG=/tmp/requirements/mplsetup.cfg PIP_CONSTRAINT=/tmp/requirements/build-constraints.txt \
        /opt/venv/bin/pip wheel --no-cache-dir --no-deps -w /tmp/wheels \
        "$(grep -E '^matplotlib==' /tmp/requirements/requirements-lock.txt)" \
    && /opt/venv/bin/pip install --no-cache-dir --ignore-requires-python --find-links /tmp/wheels \
        -r /tmp/requirements/rasa-requirements.txt -c /tmp/requirements/requirements-lock.txt
ENV PATH=/opt/venv/bin:$PATH
COPY careers/ careers/
COPY dialogue/ dialogue/
COPY nlp/ nlp/
RUN python -m nlp.build_pipeline build/spacy-en-careers
COPY config.yml domain.yml ./
COPY data/ data/
# The same command as `make train`: the model is made from this commit's data.
RUN rasa train --fixed-model-name careers --out models --quiet
COPY channels/ channels/
COPY runtime/ runtime/
COPY tools/__init__.py runtime/quiet.py tools/
COPY tools/careers_team/ tools/careers_team/
COPY tools/running/__init__.py tools/running/demo_site.py tools/running/
RUN python -m compileall -q careers dialogue nlp channels runtime tools

# ---- 3. What runs: the venv, the code, the model, the pipeline, the widget ----
FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONWARNINGS=ignore::DeprecationWarning \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    ASSISTANT_PROFILE=production \
    ALLOWED_ORIGINS=http://localhost:8080
# matplotlib's two libraries from Debian (built against them in the build stage), and
# the user the server runs as; it owns nothing in /app, /opt/venv or the model.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libfreetype6 libqhull-r8.0 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 careers \
    && useradd --no-log-init --uid 10001 --gid 10001 --create-home \
        --home-dir /home/careers --shell /usr/sbin/nologin careers
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --from=build /app/careers/ careers/
COPY --from=build /app/dialogue/ dialogue/
COPY --from=build /app/nlp/ nlp/
COPY --from=build /app/channels/ channels/
COPY --from=build /app/runtime/ runtime/
COPY --from=build /app/tools/ tools/
COPY --from=build /app/build/spacy-en-careers/ build/spacy-en-careers/
COPY --from=build /app/models/careers.tar.gz models/careers.tar.gz
COPY credentials.yml endpoints.yml ./
COPY deploy/endpoints.production.yml deploy/
# The widget as static files: a proxy (or `python -m tools.running.demo_site`) serves
# /app/widget/dist/careers-chat.js and the demo pages in /app/widget/demo.
COPY --from=widget /widget/dist/careers-chat.js widget/dist/careers-chat.js
COPY widget/demo/ widget/demo/
USER 10001:10001
EXPOSE 5005
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5005/', timeout=4)"]
# ALLOWED_ORIGINS (commas or spaces between origins) is both the socket.io origin
# check (channels/socketio_channel.py) and Rasa's --cors list, as in run.sh. The
# endpoints file comes from ASSISTANT_PROFILE (production: deploy/endpoints.production.yml).
CMD ["sh", "-c", "IFS=', '; set -f; exec python -m runtime run --model models/careers.tar.gz --credentials credentials.yml --interface 0.0.0.0 --port 5005 --cors $ALLOWED_ORIGINS"]
