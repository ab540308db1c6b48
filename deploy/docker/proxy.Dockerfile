# syntax=docker/dockerfile:1
#
# The reverse proxy image: Debian's nginx (bookworm, kept patched by Debian's security
# team) with deploy/proxy/nginx.conf and the chat widget's bundle, in front of Rasa in
# the compose example and beside it in each Kubernetes pod. Sanic 21.12, Rasa's web
# server, is then never what the internet talks to.
#
#   podman build --format docker -f deploy/docker/proxy.Dockerfile -t careers-proxy .
#
# Two stages: the widget is bundled with Node, as in rasa.Dockerfile, and the last
# stage adds nginx to the project's Debian bookworm base. That base is the Python
# images' (python:3.11-slim-bookworm is debian:bookworm-slim with Python in
# /usr/local), so one reviewed digest covers all three images and the same local
# stand-ins build it offline; any bookworm-slim image works (--build-arg BASE_IMAGE=).
# The same nginx and file run under test (tests/harness/proxy.py, tests/test_proxy.py).

ARG BASE_IMAGE=python:3.11-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91
ARG NODE_IMAGE=node:20.20.2-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0

# ---- 1. The chat widget: one JavaScript file, from widget/package-lock.json ----
FROM ${NODE_IMAGE} AS widget
WORKDIR /widget
COPY widget/package.json widget/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY widget/build.mjs ./
COPY widget/src/ ./src/
RUN npm run --silent build

# ---- 2. nginx, its configuration and the bundle ----
FROM ${BASE_IMAGE}
# Debian's nginx at the newest bookworm security release when the image is built:
# pinning a version would keep a vulnerable one once Debian publishes the fix.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx \
    && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled /etc/nginx/sites-available \
    && groupadd --gid 10001 careers \
    && useradd --no-log-init --uid 10001 --gid 10001 --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin careers
COPY deploy/proxy/nginx.conf /etc/careers-proxy/nginx.conf
COPY --from=widget /widget/dist/careers-chat.js /usr/share/careers-proxy/widget/careers-chat.js
# nginx writes only its pid and temporary files, all under /tmp (a read-only root
# file system works), and logs to stdout and stderr.
USER 10001:10001
EXPOSE 8080
# /healthz is answered by nginx itself, never by Rasa.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
# SIGQUIT: nginx finishes the requests under way before it exits.
STOPSIGNAL SIGQUIT
CMD ["nginx", "-c", "/etc/careers-proxy/nginx.conf"]
