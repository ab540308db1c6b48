"""The Kubernetes manifests (deploy/kubernetes; docs/kubernetes.md says how to apply them).

Three layers of checks:

- Structure, in plain Python, on the base's files as written (always) and on what
  kustomize renders from the base and each overlay (where a kustomize is on this
  machine: `kustomize`, or the one built into `kubectl`): resources and probes on
  every container, a locked-down security context, sizes no smaller than
  benchmarks/results.md's peaks, replicas, the names of the environment variables the
  servers read, no secrets in ConfigMaps, Services, the NetworkPolicies around the
  action server and Rasa, the reverse proxy in each Rasa pod (deploy/proxy/nginx.conf
  as its ConfigMap) and the Ingress sending everything to it.
- checkov (`make test` installs it in build/checkov), offline: every check passes
  except the few skipped in the manifests themselves with a written reason.
- kubernetes-validate (installed beside checkov): the Kubernetes API's own schemas,
  strictly, so a misspelt field fails here rather than at `kubectl apply`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
KUBE = ROOT / "deploy" / "kubernetes"
BASE = KUBE / "base"
# The reverse proxy's configuration, a kustomization of its own that the base includes.
PROXY = ROOT / "deploy" / "proxy"
PROXY_CONFIG = PROXY / "nginx.conf"
OVERLAYS = sorted(p.parent for p in (KUBE / "overlays").glob("*/kustomization.yaml"))
SECRET_EXAMPLE = KUBE / "careers-secrets.example.env"
DOCS = ROOT / "docs" / "kubernetes.md"
BENCHMARKS = ROOT / "benchmarks" / "results.md"
PRODUCTION_ENDPOINTS = ROOT / "deploy" / "endpoints.production.yml"
TOOLS = ROOT / "build" / "checkov" / "bin"
CHECKOV = TOOLS / "checkov"
KUBERNETES_VALIDATE = TOOLS / "kubernetes-validate"
NOT_INSTALLED = "not installed in build/checkov: `make test` installs it (docs/kubernetes.md, Checks)"

NAMESPACE = "careers-assistant"
SECRET = "careers-secrets"
RASA = "careers-rasa"
ACTIONS = "careers-actions"
# The reverse proxy's container in each Rasa pod, and its port (deploy/proxy/nginx.conf).
PROXY_CONTAINER = "proxy"
PROXY_PORT = 8080
# The Kubernetes versions the manifests are held to: an older release that clusters
# may still run, and the newest kubernetes-validate 1.37 knows.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")

# Every environment variable the Rasa container may be given, and the action
# server's: the launcher's profile (runtime/__main__.py), the production endpoints
# file, the channels and credentials.yml. Anything else is a typo or a setting
# nothing reads.
RASA_ENV = {
    "ASSISTANT_PROFILE", "ACTION_SERVER_URL",
    "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD",
    "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "REDIS_DB",
    "CONVERSATION_SECRET", "REST_API_TOKEN", "ACTION_SERVER_TOKEN",
    "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "TEAMS_APP_ID", "TEAMS_APP_PASSWORD", "TEAMS_TENANT_ID",
    "ALLOWED_ORIGINS", "TRUSTED_PROXY_HOPS", "RASA_TELEMETRY_ENABLED", "HOME",
}  # fmt: skip
RASA_REQUIRED = {
    "ASSISTANT_PROFILE", "ACTION_SERVER_URL", "CONVERSATION_SECRET", "REST_API_TOKEN",
    "ACTION_SERVER_TOKEN", "ALLOWED_ORIGINS", "TRUSTED_PROXY_HOPS", "RASA_TELEMETRY_ENABLED",
}  # fmt: skip
ACTIONS_ENV = {"ACTIONS_HOST", "ACTION_SERVER_TOKEN", "HOME"}
# Only the test stand-ins set these (they send Slack's and Teams' traffic elsewhere).
NEVER_IN_PRODUCTION = {"SLACK_API_URL", "TEAMS_OPENID_METADATA_URL", "TEAMS_TOKEN_URL"}
# Read by Rasa or the operating system rather than by this project's code.
READ_ELSEWHERE = {"RASA_TELEMETRY_ENABLED", "HOME"}
SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|PASSWD|API_KEY|PRIVATE", re.IGNORECASE)
SECRET_VALUE = re.compile(r"[0-9a-fA-F]{32,}|[A-Za-z0-9+/_=-]{40,}")
# The checkov checks the manifests may skip, each with its reason in the manifest.
ALLOWED_SKIPS = {
    "CKV_K8S_43": "images pinned by tag until the release pipeline publishes digests",
    "CKV_K8S_35": "the servers read their secrets from environment variables only",
}

Document = Dict[str, Any]


# --- reading the manifests --------------------------------------------------------


def _env_file(path: Path) -> Dict[str, str]:
    """KEY=value lines, as kustomize's `envs:` and kubectl's --from-env-file read them."""
    values: Dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, separator, value = line.partition("=")
        assert separator, f"{path.name}: {line!r} is not KEY=value"
        values[key.strip()] = value
    return values


def _kustomization(folder: Path) -> Dict[str, Any]:
    return yaml.safe_load((folder / "kustomization.yaml").read_text(encoding="utf-8"))


def _base_documents() -> List[Document]:
    """The base as written: its resource files, the kustomizations it includes (the
    proxy's), and the ConfigMaps their generators make (without the hash suffix
    kustomize adds to the names), all in the base's namespace."""
    return _documents_of(BASE, _kustomization(BASE)["namespace"])


def _documents_of(folder: Path, namespace: str) -> List[Document]:
    kustomization = _kustomization(folder)
    documents: List[Document] = []
    for name in kustomization.get("resources", []):
        if (folder / name).is_dir():
            documents += _documents_of(folder / name, namespace)
        else:
            documents += [d for d in yaml.safe_load_all((folder / name).read_text(encoding="utf-8")) if d]
    for generator in kustomization.get("configMapGenerator", []):
        data: Dict[str, str] = {}
        for env in generator.get("envs", []):
            data.update(_env_file(folder / env))
        for entry in generator.get("files", []):
            key, _, path = entry.rpartition("=")
            data[key or Path(path).name] = (folder / path).read_text(encoding="utf-8")
        documents.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": generator["name"], "namespace": namespace},
                "data": data,
            }
        )
    return documents


def _resource_files(folder: Path) -> List[Path]:
    """The resource files a kustomization lists, not the kustomizations it includes."""
    return [folder / name for name in _kustomization(folder)["resources"] if (folder / name).is_file()]


def _kustomize_command() -> Optional[List[str]]:
    """A kustomize of version 4 or later (the `patches` field), standalone or in kubectl."""
    for command, version_command in (
        (["kustomize", "build"], ["kustomize", "version"]),
        (["kubectl", "kustomize"], ["kubectl", "version", "--client", "-o", "json"]),
    ):
        if not shutil.which(command[0]):
            continue
        try:
            output = subprocess.run(version_command, capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.TimeoutExpired):
            continue
        if command[0] == "kubectl":
            try:
                output = json.loads(output).get("kustomizeVersion", "")
            except ValueError:
                continue
        found = re.search(r"v(\d+)\.\d+", output)
        if found and int(found.group(1)) >= 4:
            return command
    return None


KUSTOMIZE = _kustomize_command()
NO_KUSTOMIZE = "no kustomize 4 or later on this machine (`kustomize`, or `kubectl kustomize`)"


def _render(folder: Path) -> List[Document]:
    assert KUSTOMIZE is not None
    result = subprocess.run([*KUSTOMIZE, str(folder)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, f"kustomize could not render {folder}:\n{result.stderr}"
    return [d for d in yaml.safe_load_all(result.stdout) if d]


TARGETS = ["base (as written)", "base (rendered)"] + [f"{p.relative_to(KUBE)} (rendered)" for p in OVERLAYS]


@pytest.fixture(scope="module", params=TARGETS)
def manifests(request: pytest.FixtureRequest) -> List[Document]:
    target: str = request.param
    if target == "base (as written)":
        return _base_documents()
    if KUSTOMIZE is None:
        pytest.skip(NO_KUSTOMIZE)
    return _render(KUBE / target.split(" ")[0])


def _one(documents: List[Document], kind: str, name: str) -> Document:
    """The resource of this kind whose name is `name` (or `name` and kustomize's hash)."""
    found = [
        d
        for d in documents
        if d["kind"] == kind and re.fullmatch(re.escape(name) + r"(-[a-z0-9]{10})?", d["metadata"]["name"])
    ]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def _all(documents: List[Document], kind: str) -> List[Document]:
    return [d for d in documents if d["kind"] == kind]


def _pod(deployment: Document) -> Dict[str, Any]:
    return deployment["spec"]["template"]["spec"]


def _containers(documents: List[Document]) -> Iterator[Tuple[Document, Dict[str, Any]]]:
    for deployment in _all(documents, "Deployment"):
        spec = _pod(deployment)
        for container in spec.get("initContainers", []) + spec["containers"]:
            yield deployment, container


def _cpu(quantity: Any) -> float:
    text = str(quantity)
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 10**3, "M": 10**6, "G": 10**9}


def _bytes(quantity: Any) -> float:
    found = re.fullmatch(r"([0-9.]+)(Ki|Mi|Gi|k|M|G)?", str(quantity))
    assert found, f"cannot read the quantity {quantity!r}"
    return float(found.group(1)) * _UNITS.get(found.group(2) or "", 1)


def _config_map_keys(documents: List[Document], container: Dict[str, Any]) -> Dict[str, str]:
    values: Dict[str, str] = {}
    for source in container.get("envFrom", []):
        assert "configMapRef" in source, "environment comes from ConfigMaps (secrets: secretKeyRef)"
        values.update(_one(documents, "ConfigMap", source["configMapRef"]["name"]).get("data", {}))
    return values


def _env(documents: List[Document], container: Dict[str, Any]) -> Dict[str, Any]:
    """Every environment variable a container gets: name -> its value or valueFrom."""
    values: Dict[str, Any] = dict(_config_map_keys(documents, container))
    for entry in container.get("env", []):
        values[entry["name"]] = entry.get("value", entry.get("valueFrom"))
    return values


def _deployment_container(documents: List[Document], name: str, container_name: str = "") -> Dict[str, Any]:
    """The Deployment's server container (careers-rasa: "rasa"), or the one named."""
    wanted = container_name or name.removeprefix("careers-")
    (container,) = [c for c in _pod(_one(documents, "Deployment", name))["containers"] if c["name"] == wanted]
    return container


def _benchmark(row: str) -> float:
    """A figure from benchmarks/results.md's table, in its own unit (MB, s)."""
    found = re.search(r"^\| " + re.escape(row) + r" \| ([0-9,.]+) (MB|s) \|", BENCHMARKS.read_text(), re.M)
    assert found, f"benchmarks/results.md has no row {row!r}"
    return float(found.group(1).replace(",", ""))


# --- files and kustomizations -------------------------------------------------------


def test_every_yaml_file_parses_and_every_resource_is_named() -> None:
    files = sorted(KUBE.rglob("*.yaml")) + sorted(KUBE.rglob("*.yml"))
    assert files
    for path in files:
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document is None or path.name == "kustomization.yaml":
                continue
            assert {"apiVersion", "kind", "metadata"} <= set(document), f"{path}: not a resource"
            assert document["metadata"].get("name"), f"{path}: a {document['kind']} without a name"


def test_every_kustomization_names_files_that_exist_and_the_base_lists_all_of_its_own() -> None:
    for folder in [BASE, PROXY, *OVERLAYS]:
        kustomization = _kustomization(folder)
        named = list(kustomization.get("resources", []))
        named += [p["path"] for p in kustomization.get("patches", []) if "path" in p]
        for generator in kustomization.get("configMapGenerator", []) + kustomization.get(
            "secretGenerator", []
        ):
            named += generator.get("envs", []) + generator.get("files", [])
        for name in named:
            target = (folder / name).resolve()
            assert target.exists(), f"{folder.relative_to(ROOT)}: {name} does not exist"
            if target.is_dir():
                assert (target / "kustomization.yaml").exists(), f"{name} is not a kustomization"
        # The Secret is made by hand, never generated from a file in the repository.
        assert "secretGenerator" not in kustomization
        assert SECRET_EXAMPLE.name not in (folder / "kustomization.yaml").read_text()
    listed = {path.name for path in _resource_files(BASE)}
    on_disk = {p.name for p in BASE.glob("*.yaml")} - {"kustomization.yaml"}
    assert on_disk == listed, f"in base/ but not in its kustomization: {sorted(on_disk - listed)}"


def test_the_base_files_name_the_namespace_the_kustomization_sets() -> None:
    namespace = _kustomization(BASE)["namespace"]
    assert namespace == NAMESPACE
    for document in _base_documents():
        if document["kind"] != "Namespace":
            assert document["metadata"].get("namespace") == namespace, document["metadata"]["name"]


# --- containers ------------------------------------------------------------------------


def test_every_container_has_requests_limits_and_probes(manifests: List[Document]) -> None:
    containers = list(_containers(manifests))
    assert {d["metadata"]["name"] for d, _ in containers} == {RASA, ACTIONS}
    for deployment, container in containers:
        where = f"{deployment['metadata']['name']}/{container['name']}"
        resources = container.get("resources", {})
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources.get(kind, {})), f"{where}: no {kind}"
        assert _cpu(resources["limits"]["cpu"]) >= _cpu(resources["requests"]["cpu"]), where
        assert _bytes(resources["limits"]["memory"]) >= _bytes(resources["requests"]["memory"]), where
        ports = {p["name"] for p in container["ports"]} | {p["containerPort"] for p in container["ports"]}
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            assert probe in container, f"{where}: no {probe}"
            assert container[probe]["httpGet"]["port"] in ports, f"{where}: {probe} on an unknown port"
        assert container.get("imagePullPolicy") in {"Always", "IfNotPresent"}, where
        image = container["image"]
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        assert (tag and tag != "latest") or "@sha256:" in image, f"{where}: {image} is not pinned"


def test_every_container_runs_locked_down(manifests: List[Document]) -> None:
    for deployment, container in _containers(manifests):
        where = f"{deployment['metadata']['name']}/{container['name']}"
        pod = _pod(deployment)
        pod_context = pod.get("securityContext", {})
        context = container.get("securityContext", {})
        assert pod.get("automountServiceAccountToken") is False, where
        assert pod.get("serviceAccountName") not in {None, "default"}, where
        assert context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is True, where
        assert context.get("runAsUser", pod_context.get("runAsUser", 0)) >= 10000, where
        assert context.get("allowPrivilegeEscalation") is False, where
        assert context.get("privileged", False) is False, where
        assert context.get("readOnlyRootFilesystem") is True, where
        assert context.get("capabilities", {}).get("drop") == ["ALL"], where
        assert not context.get("capabilities", {}).get("add"), where
        seccomp = context.get("seccompProfile", pod_context.get("seccompProfile", {}))
        assert seccomp.get("type") == "RuntimeDefault", where
        # With a read-only root, Rasa needs a writable /tmp (the model is unpacked
        # there) and $HOME (Rasa's, Keras's and Matplotlib's settings files).
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        assert "/tmp" in mounts and "emptyDir" in volumes[mounts["/tmp"]], f"{where}: no writable /tmp"
        assert volumes[mounts["/tmp"]]["emptyDir"].get("sizeLimit"), f"{where}: /tmp unbounded"
        if container["name"] == PROXY_CONTAINER:
            continue  # nginx writes nothing under $HOME
        home = _env(manifests, container).get("HOME")
        assert home and any(home.startswith(path) for path in mounts), f"{where}: HOME is not writable"


def test_sizes_cover_the_benchmarks_peaks(manifests: List[Document]) -> None:
    megabyte = 10**6
    rasa_peak = _benchmark("Peak memory: Rasa server (VmHWM)") * megabyte
    actions_peak = _benchmark("Peak memory: action server (VmHWM)") * megabyte
    rasa = _deployment_container(manifests, RASA)["resources"]
    actions = _deployment_container(manifests, ACTIONS)["resources"]
    # The request holds the measured peak with room for more conversations in the
    # cache; the limit is reached only by a leak.
    assert _bytes(rasa["requests"]["memory"]) >= 1.25 * rasa_peak
    assert _bytes(rasa["limits"]["memory"]) >= 1.6 * rasa_peak
    assert _bytes(actions["requests"]["memory"]) >= 2 * actions_peak
    assert _bytes(actions["limits"]["memory"]) >= 4 * actions_peak
    # One Rasa process saturates about one core at 110-120 replies/s.
    assert _cpu(rasa["requests"]["cpu"]) >= 1
    assert _cpu(rasa["limits"]["cpu"]) > _cpu(rasa["requests"]["cpu"])


def test_rasa_has_time_to_load_its_model_before_liveness_counts(manifests: List[Document]) -> None:
    container = _deployment_container(manifests, RASA)
    startup = container["startupProbe"]
    budget = startup.get("initialDelaySeconds", 0) + startup["periodSeconds"] * startup["failureThreshold"]
    # The benchmark's cold start ran on an idle machine without a CPU limit.
    assert budget >= max(120, 5 * _benchmark("Cold start: launch to first reply"))
    liveness = container["livenessProbe"]
    readiness = container["readinessProbe"]
    assert (
        liveness["periodSeconds"] * liveness["failureThreshold"]
        >= readiness["periodSeconds"] * readiness["failureThreshold"]
    ), "a busy replica should leave the Service before it is restarted"


def test_replicas_disruptions_and_shutdown(manifests: List[Document]) -> None:
    rasa = _one(manifests, "Deployment", RASA)
    actions = _one(manifests, "Deployment", ACTIONS)
    assert rasa["spec"]["replicas"] >= 2 and actions["spec"]["replicas"] >= 2
    for deployment in (rasa, actions):
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    autoscaler = _one(manifests, "HorizontalPodAutoscaler", RASA)
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == RASA
    assert 2 <= autoscaler["spec"]["minReplicas"] <= rasa["spec"]["replicas"]
    assert autoscaler["spec"]["maxReplicas"] > autoscaler["spec"]["minReplicas"]
    for deployment in (rasa, actions):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        budgets = [
            b
            for b in _all(manifests, "PodDisruptionBudget")
            if b["spec"]["selector"]["matchLabels"].items() <= labels.items()
        ]
        assert len(budgets) == 1, deployment["metadata"]["name"]
        spec = budgets[0]["spec"]
        # Protects, and still lets a node drain.
        replicas = deployment["spec"]["replicas"]
        assert spec.get("maxUnavailable", 0) >= 1 or 1 <= spec["minAvailable"] < replicas
    spread = _pod(rasa).get("topologySpreadConstraints", [])
    assert any(c["topologyKey"] == "kubernetes.io/hostname" for c in spread)
    # Long enough for preStop and Sanic's 15 s graceful shutdown, which covers an
    # action call of up to ACTION_TIMEOUT_SECONDS (10 s).
    assert _pod(rasa)["terminationGracePeriodSeconds"] >= 30


# --- configuration and secrets -----------------------------------------------------------


def test_no_secret_lives_in_a_config_map_or_a_literal(manifests: List[Document]) -> None:
    assert not _all(manifests, "Secret"), "the Secret is made by hand (docs/kubernetes.md)"
    for config_map in _all(manifests, "ConfigMap"):
        for key, value in config_map.get("data", {}).items():
            assert not SECRET_NAME.search(key), f"{key} belongs in the Secret"
            assert not SECRET_VALUE.search(str(value)), f"{key}'s value looks like a secret"
    for _, container in _containers(manifests):
        for entry in container.get("env", []):
            if SECRET_NAME.search(entry["name"]):
                reference = entry.get("valueFrom", {}).get("secretKeyRef")
                assert reference and reference["name"] == SECRET, f"{entry['name']} must come from {SECRET}"


def test_rasa_gets_exactly_the_settings_the_production_profile_reads(manifests: List[Document]) -> None:
    env = _env(manifests, _deployment_container(manifests, RASA))
    assert set(env) <= RASA_ENV, f"nothing reads {sorted(set(env) - RASA_ENV)}"
    assert set(env) >= RASA_REQUIRED, f"missing {sorted(RASA_REQUIRED - set(env))}"
    assert not set(env) & NEVER_IN_PRODUCTION
    assert env["ASSISTANT_PROFILE"] == "production"
    assert env["TRUSTED_PROXY_HOPS"] == "1"
    assert env["RASA_TELEMETRY_ENABLED"] == "false"
    assert "*" not in env["ALLOWED_ORIGINS"]
    assert all(o.startswith("https://") for o in re.split(r"[,\s]+", env["ALLOWED_ORIGINS"].strip()))
    if PRODUCTION_ENDPOINTS.exists():
        named = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", PRODUCTION_ENDPOINTS.read_text()))
        assert named <= set(env), f"{PRODUCTION_ENDPOINTS.name} also reads {sorted(named - set(env))}"


def test_the_action_server_gets_its_token_and_nothing_else(manifests: List[Document]) -> None:
    env = _env(manifests, _deployment_container(manifests, ACTIONS))
    assert set(env) == ACTIONS_ENV
    assert env["ACTIONS_HOST"] == "0.0.0.0"
    assert env["ACTION_SERVER_TOKEN"]["secretKeyRef"] == {"name": SECRET, "key": "ACTION_SERVER_TOKEN"}


def test_every_variable_set_is_one_the_code_reads() -> None:
    """Catches a misspelt name, which a server would silently ignore."""
    sources = [*ROOT.glob("runtime/*.py"), *ROOT.glob("channels/*.py"), ROOT / "credentials.yml"]
    sources += [PRODUCTION_ENDPOINTS] if PRODUCTION_ENDPOINTS.exists() else []
    text = "\n".join(p.read_text(encoding="utf-8") for p in sources)
    documents = _base_documents()
    names: Set[str] = set()
    for _, container in _containers(documents):
        names |= set(_env(documents, container))
    unread = {n for n in names - READ_ELSEWHERE if not re.search(rf"\b{n}\b", text)}
    assert not unread, f"no code reads {sorted(unread)}"


def test_the_secret_example_matches_what_the_pods_ask_for() -> None:
    example = _env_file(SECRET_EXAMPLE)
    documents = _base_documents()
    referenced: Dict[str, bool] = {}
    for _, container in _containers(documents):
        for entry in container.get("env", []):
            reference = entry.get("valueFrom", {}).get("secretKeyRef")
            if reference:
                assert reference["name"] == SECRET
                referenced[reference["key"]] = bool(reference.get("optional"))
    assert set(example) == set(referenced)
    for key, value in example.items():
        if SECRET_NAME.search(key):
            assert value == "" or "replace-me" in value, f"{key}: only placeholders in the example"
        if not referenced[key]:
            assert value, f"{key} is required: the example shows a placeholder"


# --- network -----------------------------------------------------------------------


def test_services_reach_the_pods_and_rasa_finds_the_action_server(manifests: List[Document]) -> None:
    for name in (RASA, ACTIONS):
        service = _one(manifests, "Service", name)
        deployment = _one(manifests, "Deployment", name)
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= pod_labels.items()
        assert deployment["spec"]["selector"]["matchLabels"] == service["spec"]["selector"]
        ports = {p["name"]: p["containerPort"] for c in _pod(deployment)["containers"] for p in c["ports"]}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports or port["targetPort"] in ports.values()
    url = _env(manifests, _deployment_container(manifests, RASA))["ACTION_SERVER_URL"]
    found = re.fullmatch(r"http://([a-z0-9-]+):(\d+)/webhook", url)
    assert found, url
    service = _one(manifests, "Service", found.group(1))
    assert int(found.group(2)) in {p["port"] for p in service["spec"]["ports"]}


def test_only_rasa_reaches_the_action_server(manifests: List[Document]) -> None:
    policies = _all(manifests, "NetworkPolicy")
    assert any(p["spec"]["podSelector"] == {} and not p["spec"].get("ingress") for p in policies)
    actions_labels = _one(manifests, "Deployment", ACTIONS)["spec"]["template"]["metadata"]["labels"]
    rasa_labels = _one(manifests, "Deployment", RASA)["spec"]["template"]["metadata"]["labels"]
    selecting = [
        p
        for p in policies
        if p["spec"]["podSelector"].get("matchLabels", {}).items() <= actions_labels.items()
        and p["spec"]["podSelector"] != {}
    ]
    assert selecting, "no NetworkPolicy selects the action server's pods"
    for policy in selecting:
        for rule in policy["spec"].get("ingress", []):
            assert rule["ports"] == [{"protocol": "TCP", "port": 5055}]
            for peer in rule["from"]:
                assert set(peer) == {"podSelector"}, "only pods of this namespace"
                assert peer["podSelector"]["matchLabels"].items() <= rasa_labels.items()


def _proxy_ports(manifests: List[Document]) -> Set[Any]:
    """The names and numbers of the ports of the proxy in Rasa's pods."""
    ports = _deployment_container(manifests, RASA, PROXY_CONTAINER)["ports"]
    return {p["name"] for p in ports} | {p["containerPort"] for p in ports}


def _rasa_pod_labels(manifests: List[Document]) -> Dict[str, str]:
    return _one(manifests, "Deployment", RASA)["spec"]["template"]["metadata"]["labels"]


def test_the_ingress_sends_everything_to_the_proxy_over_tls(manifests: List[Document]) -> None:
    """The proxy decides what is public (deploy/proxy/nginx.conf); the Ingress is
    plain, for any controller, and names nothing of the retired ingress-nginx."""
    ingress = _one(manifests, "Ingress", RASA)
    spec = ingress["spec"]
    hosts = {rule["host"] for rule in spec["rules"]}
    assert hosts <= {h for tls in spec["tls"] for h in tls["hosts"]}, "every host has TLS"
    assert all(tls.get("secretName") for tls in spec["tls"])
    service = _one(manifests, "Service", RASA)
    targets = {p["name"]: p["targetPort"] for p in service["spec"]["ports"]}
    paths = {}
    for rule in spec["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] == service["metadata"]["name"]
            assert targets[backend["port"]["name"]] in _proxy_ports(manifests), "to the proxy, never to Rasa"
            paths[path["path"]] = path["pathType"]
    assert paths == {"/": "Prefix"}
    annotations = ingress["metadata"].get("annotations") or {}
    assert not [a for a in annotations if a.startswith("nginx.ingress.kubernetes.io/")]
    assert spec.get("ingressClassName") != "nginx"


def test_only_the_proxy_beside_it_reaches_rasa(manifests: List[Document]) -> None:
    """No Service and no NetworkPolicy lets anything reach Rasa's port; the proxy in
    the pod reaches it as "rasa", which the pod maps to its loopback."""
    pod = _pod(_one(manifests, "Deployment", RASA))
    rasa_ports = {p["containerPort"] for p in _deployment_container(manifests, RASA)["ports"]}
    for service in _all(manifests, "Service"):
        if service["spec"]["selector"].items() <= _rasa_pod_labels(manifests).items():
            for port in service["spec"]["ports"]:
                assert port["targetPort"] in _proxy_ports(manifests), service["metadata"]["name"]
    rasa_policies = [
        policy
        for policy in _all(manifests, "NetworkPolicy")
        if policy["spec"]["podSelector"] != {}
        and policy["spec"]["podSelector"].get("matchLabels", {}).items()
        <= _rasa_pod_labels(manifests).items()
    ]
    assert rasa_policies, "no NetworkPolicy selects Rasa's pods"
    for policy in rasa_policies:
        for rule in policy["spec"].get("ingress", []):
            assert rule["ports"] == [{"protocol": "TCP", "port": PROXY_PORT}], rule
    assert not rasa_ports & {PROXY_PORT}
    # nginx.conf's upstream is "rasa:<Rasa's port>": this pod's own Rasa.
    upstream = re.search(r"^\s*server (\S+):(\d+)\b", PROXY_CONFIG.read_text(), re.M)
    assert upstream, "no upstream server in nginx.conf"
    assert int(upstream.group(2)) in rasa_ports
    aliases = {name: alias["ip"] for alias in pod.get("hostAliases", []) for name in alias["hostnames"]}
    assert aliases.get(upstream.group(1)) == "127.0.0.1"
    assert re.search(rf"^\s*listen {PROXY_PORT} default_server;", PROXY_CONFIG.read_text(), re.M)


def test_the_proxy_runs_deploy_proxy_nginx_conf(manifests: List[Document]) -> None:
    """The ConfigMap holds the file as it is in the repository, mounted where the
    image's command reads it (deploy/docker/proxy.Dockerfile)."""
    container = _deployment_container(manifests, RASA, PROXY_CONTAINER)
    dockerfile = (ROOT / "deploy" / "docker" / "proxy.Dockerfile").read_text()
    command = json.loads(re.findall(r"^CMD (\[.*\])$", dockerfile, re.M)[-1])
    config_path = Path(command[command.index("-c") + 1])
    volumes = {v["name"]: v for v in _pod(_one(manifests, "Deployment", RASA))["volumes"]}
    (mount,) = [m for m in container["volumeMounts"] if "configMap" in volumes[m["name"]]]
    assert Path(mount["mountPath"]) == config_path.parent and mount.get("readOnly") is True
    config_map = _one(manifests, "ConfigMap", volumes[mount["name"]]["configMap"]["name"])
    assert config_map["data"][config_path.name] == PROXY_CONFIG.read_text(encoding="utf-8")


def test_the_docs_cover_applying_it() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for needle in (
        "kubectl apply -k deploy/kubernetes/overlays/production",
        "--from-env-file",
        "socket.io behind several replicas",
        "rollout status deployment/careers-rasa",
        "VmHWM",
    ):
        assert needle in text, f"docs/kubernetes.md does not mention {needle!r}"


# --- checkov --------------------------------------------------------------------------


def _skip_annotations(documents: List[Document]) -> Dict[str, List[str]]:
    """checkov.io/skip annotations: check id -> reasons (one per resource)."""
    found: Dict[str, List[str]] = {}
    for document in documents:
        for key, value in document["metadata"].get("annotations", {}).items():
            if key.startswith("checkov.io/skip"):
                check, _, reason = value.partition("=")
                found.setdefault(check.strip(), []).append(reason.strip())
    return found


def test_checks_are_skipped_only_with_a_reason() -> None:
    skips = _skip_annotations(_base_documents())
    unreviewed = set(skips) - set(ALLOWED_SKIPS)
    assert not unreviewed, f"a new skip needs a review here first: {sorted(unreviewed)}"
    for check, reasons in skips.items():
        for reason in reasons:
            assert len(reason.split()) >= 8, f"{check}: say why it is skipped"


def _checkov(*target: str) -> Dict[str, Any]:
    """checkov's kubernetes checks, offline (no download of guidelines or policies)."""
    if not CHECKOV.exists():
        pytest.skip(f"checkov is {NOT_INSTALLED}")
    result = subprocess.run(
        [str(CHECKOV), *target, "--framework", "kubernetes", "--skip-download", "--compact", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env={**os.environ, "LOG_LEVEL": "WARNING"},
    )
    assert result.returncode in {0, 1}, f"checkov failed to run:\n{result.stderr[-3000:]}"
    report = json.loads(result.stdout)
    (report,) = report if isinstance(report, list) else [report]
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["resource_count"] > 0
    return report


def _failures(report: Dict[str, Any]) -> List[str]:
    return [
        f"{c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']})"
        for c in report["results"]["failed_checks"]
    ]


def _assert_clean(report: Dict[str, Any]) -> None:
    assert not _failures(report), "checkov failed:\n" + "\n".join(_failures(report))
    assert report["summary"]["passed"] >= 100
    skipped = {c["check_id"] for c in report["results"]["skipped_checks"]}
    assert skipped <= set(ALLOWED_SKIPS)


def test_checkov_passes_on_the_base_as_written() -> None:
    _assert_clean(_checkov("-d", str(BASE.relative_to(ROOT))))


@pytest.mark.parametrize("folder", [BASE, *OVERLAYS], ids=lambda p: str(p.relative_to(KUBE)))
def test_checkov_passes_on_what_kustomize_renders(folder: Path, tmp_path: Path) -> None:
    if KUSTOMIZE is None:
        pytest.skip(NO_KUSTOMIZE)
    if not CHECKOV.exists():
        pytest.skip(f"checkov is {NOT_INSTALLED}")
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(yaml.safe_dump_all(_render(folder), sort_keys=False))
    _assert_clean(_checkov("-f", str(rendered)))


def test_checkov_does_fail_a_weakened_manifest(tmp_path: Path) -> None:
    """The check above can fail: the Rasa Deployment without its security context
    and resources fails checkov's checks."""
    deployment = yaml.safe_load((BASE / "rasa-deployment.yaml").read_text())
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    del container["securityContext"], container["resources"]
    (tmp_path / "weak.yaml").write_text(yaml.safe_dump(deployment))
    failed = {c["check_id"] for c in _checkov("-f", str(tmp_path / "weak.yaml"))["results"]["failed_checks"]}
    assert {"CKV_K8S_22", "CKV_K8S_20", "CKV_K8S_13"} <= failed  # read-only root, escalation, memory limit


# --- the Kubernetes API's schemas ----------------------------------------------------------


def _validate(paths: List[Path]) -> None:
    if not KUBERNETES_VALIDATE.exists():
        pytest.skip(f"kubernetes-validate is {NOT_INSTALLED}")
    for version in KUBERNETES_VERSIONS:
        result = subprocess.run(
            [str(KUBERNETES_VALIDATE), "--strict", "--quiet", "-k", version, *map(str, paths)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, f"Kubernetes {version}:\n{result.stdout}{result.stderr}"


def test_the_base_files_match_the_kubernetes_schemas() -> None:
    _validate(_resource_files(BASE))


@pytest.mark.parametrize("folder", [BASE, *OVERLAYS], ids=lambda p: str(p.relative_to(KUBE)))
def test_what_kustomize_renders_matches_the_kubernetes_schemas(folder: Path, tmp_path: Path) -> None:
    if KUSTOMIZE is None:
        pytest.skip(NO_KUSTOMIZE)
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(yaml.safe_dump_all(_render(folder), sort_keys=False))
    _validate([rendered])
