# syntax=docker/dockerfile:1
#
# The action server image: `python -m runtime.action_server` (rasa-sdk's server,
# answering only Rasa) with the custom actions and the domain code they call.
#
#   podman build --format docker -f deploy/docker/actions.Dockerfile -t careers-actions .
#
# It is the action server's own stack, apart from Rasa's: Python 3.13 and the newest
# rasa-sdk with PyYAML (requirements-actions.txt, pinned by requirements-actions-lock.txt,
# as `make install` builds .venv-actions), not Rasa: actions/, dialogue/ and careers/
# never import Rasa, so TensorFlow and the rest stay out, and Rasa's Python 3.11 and
# rasa-sdk 3.6 do not hold it back. tests/test_action_contract.py checks Rasa 3.6.21
# against it. Two stages: the venv is installed in the first, and the second takes the
# venv and the code. docs/containers.md says how to run it.

# The digest is the one a public project pinned for this tag in 2026; refresh it before
# a release (docs/containers.md: skopeo inspect docker://docker.io/library/python:3.13-slim-bookworm).
ARG PYTHON_IMAGE=python:3.13-slim-bookworm@sha256:67a1e1f215ccda113cfc024e8639049257e88f273898f595b61476d128d387e8

# ---- 1. Virtual env ----
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements-actions.txt requirements-actions-lock.txt /tmp/requirements/
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir "pip==24.2" \
    && /opt/venv/bin/pip install --no-cache-dir \
        -r /tmp/requirements/requirements-actions.txt -c /tmp/requirements/requirements-actions-lock.txt
COPY careers/ careers/
COPY dialogue/ dialogue/
COPY actions/ actions/
# The action server and the package's names; the rest of runtime/ is Rasa's side.
COPY runtime/__init__.py runtime/action_server.py runtime/
RUN /opt/venv/bin/python -m compileall -q careers dialogue actions runtime

# ---- 2. What runs ----
FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ACTIONS_HOST=0.0.0.0
RUN groupadd --gid 10001 careers \
    && useradd --no-log-init --uid 10001 --gid 10001 --create-home \
        --home-dir /home/careers --shell /usr/sbin/nologin careers
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --from=build /app/careers/ careers/
COPY --from=build /app/dialogue/ dialogue/
COPY --from=build /app/actions/ actions/
COPY --from=build /app/runtime/ runtime/
USER 10001:10001
EXPOSE 5055
# /health answers without the token (runtime/action_server.py), for exactly this.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5055/health', timeout=4)"]
# ACTION_SERVER_TOKEN comes from the environment at run time; without it the server
# answers anyone who can reach it (and says so in its log).
CMD ["python", "-m", "runtime.action_server", "--actions", "actions", "--port", "5055"]
