"""The container topology under deploy/: checked here, because no Docker daemon or cluster is.

What runs on any machine: every Kubernetes object validates against the 1.30 schema and
the newest one ``kubernetes-validate`` bundles (strict: unknown fields fail), the
kustomization lists every file, and the properties the topology depends on are asserted
(model-aware probes, one Sanic worker and one TensorFlow thread per Rasa replica, HPA/PDB/
anti-affinity, routed paths and conversation affinity, placeholder-only secrets). The
compose file and the Dockerfiles are parsed and checked against the repository and the
settings. With an nginx binary, the compose entry's nginx.conf is started in front of
fake replicas and its routing and hashing are exercised; with ``kubectl``, the
kustomization is rendered; with ``docker compose``, ``docker compose config`` runs.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from core.settings import env_fields

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE = DEPLOY / "compose.yml"
NGINX_CONF = DEPLOY / "nginx" / "nginx.conf"
DOCKERFILES = sorted((DEPLOY / "docker").glob("*.Dockerfile"))
K8S_VERSIONS = ("1.30.0",)

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SETTINGS_NAMES = {env for _part, env, _description, _default in env_fields()}


# --------------------------------------------------------------------------- Kubernetes


def k8s_files() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


@lru_cache(maxsize=1)
def _parsed() -> tuple[tuple[Path, str], ...]:
    return tuple((path, path.read_text(encoding="utf-8")) for path in k8s_files())


def k8s_objects() -> list[tuple[Path, dict[str, Any]]]:
    """Every object, parsed afresh from cached text (tests may not share mutable dicts)."""
    objects = []
    for path, text in _parsed():
        for doc in yaml.load_all(text, Loader=_LOADER):
            if doc is not None:
                objects.append((path, doc))
    return objects


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for _path, doc in k8s_objects() if doc["kind"] == kind]


def named(kind: str, name: str) -> dict[str, Any]:
    found = [doc for doc in of_kind(kind) if doc["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def test_every_object_validates_against_the_kubernetes_schema() -> None:
    import kubernetes_validate

    versions = (*K8S_VERSIONS, kubernetes_validate.latest_version())
    objects = k8s_objects()
    assert len(objects) >= 15
    for path, doc in objects:
        for version in versions:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except Exception as exc:  # the library's errors carry the schema path
                pytest.fail(
                    f"{path.name}: {doc['kind']}/{doc['metadata']['name']} ({version}): {exc}"
                )


def test_the_validator_rejects_typos_and_removed_apis() -> None:
    """The schema check above would be worthless if strict mode let these through."""
    import kubernetes_validate

    hpa = named("HorizontalPodAutoscaler", "yiwen-rasa")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate({**hpa, "spek": {}}, K8S_VERSIONS[0], strict=True)
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        removed = {**hpa, "apiVersion": "autoscaling/v2beta1"}
        kubernetes_validate.validate(removed, K8S_VERSIONS[0], strict=True)


def test_no_deprecated_api_versions() -> None:
    removed = (
        "autoscaling/v2beta",
        "extensions/v1beta1",
        "policy/v1beta1",
        "networking.k8s.io/v1beta1",
    )
    for path, doc in k8s_objects():
        assert not doc["apiVersion"].startswith(removed), f"{path.name}: {doc['apiVersion']}"


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    assert kustomization["kind"] == "Kustomization"
    assert sorted(kustomization["resources"]) == sorted(p.name for p in k8s_files())
    images = {image["name"] for image in kustomization["images"]}
    used = {
        c["image"]
        for doc in of_kind("Deployment") + of_kind("Job")
        for c in doc["spec"]["template"]["spec"]["containers"]
        + doc["spec"]["template"]["spec"].get("initContainers", [])
    }
    assert used <= images, "every image the manifests use is set by the kustomization"


def test_rasa_deployment_waits_for_the_model_and_keeps_one_worker() -> None:
    rasa = named("Deployment", "yiwen-rasa")
    assert rasa["spec"]["replicas"] >= 2
    assert rasa["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    [container] = rasa["spec"]["template"]["spec"]["containers"]
    for probe in ("startupProbe", "readinessProbe"):
        command = container[probe]["exec"]["command"]
        # bot.container probe reads /status with the token: 200 only with a model loaded.
        assert command[-3:] == ["-m", "bot.container", "probe"], probe
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 180
    env = env_of(container)
    assert env["SANIC_WORKERS"] == "1"
    assert env["TF_NUM_INTRAOP_THREADS"] == env["TF_NUM_INTEROP_THREADS"] == "1"
    assert env["OMP_NUM_THREADS"] == "1"
    assert 2 <= int(env["TICKET_LOCK_LIFETIME"]) <= 60
    assert container["resources"]["requests"]["memory"] == "2Gi"
    assert "--auth-token" not in json.dumps(rasa), "the token never goes on a command line"


def test_the_probe_module_the_manifests_call_exists() -> None:
    from bot import container

    assert callable(container.probe) and callable(container.serve)


@pytest.mark.parametrize("name", ["yiwen-rasa", "yiwen-actions", "yiwen-app"])
def test_each_deployment_has_hpa_pdb_anti_affinity_and_a_service(name: str) -> None:
    deployment = named("Deployment", name)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()

    hpa = named("HorizontalPodAutoscaler", name)
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == ("apps/v1", "Deployment", name)
    assert (
        hpa["spec"]["minReplicas"] >= 2 and hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    )

    pdb = [
        p
        for p in of_kind("PodDisruptionBudget")
        if p["spec"]["selector"]["matchLabels"].items() <= labels.items()
    ]
    assert len(pdb) == 1 and pdb[0]["spec"]["minAvailable"] == 1

    affinity = deployment["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    [term] = affinity["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert term["podAffinityTerm"]["labelSelector"]["matchLabels"].items() <= labels.items()

    service = named("Service", name)
    assert service["spec"]["selector"].items() <= labels.items()
    pod_spec = deployment["spec"]["template"]["spec"]
    assert pod_spec["securityContext"]["runAsNonRoot"] is True
    for container in pod_spec["containers"]:
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert "readinessProbe" in container and "startupProbe" in container
        assert "limits" in container["resources"] and "requests" in container["resources"]


def test_every_deployment_has_an_hpa() -> None:
    targets = {h["spec"]["scaleTargetRef"]["name"] for h in of_kind("HorizontalPodAutoscaler")}
    assert {d["metadata"]["name"] for d in of_kind("Deployment")} <= targets


def ingress_routes() -> list[tuple[dict[str, Any], str, str, str]]:
    routes = []
    for ingress in of_kind("Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                routes.append(
                    (ingress, path["path"], path["pathType"], path["backend"]["service"]["name"])
                )
    return routes


def test_ingress_routes_only_the_public_paths() -> None:
    routes = {(path, backend) for _ingress, path, _type, backend in ingress_routes()}
    expected = {
        ("/webhooks/rest/webhook", "yiwen-rasa"),
        ("/socket.io", "yiwen-rasa"),
        ("/webhooks/wechat", "yiwen-rasa"),
        ("/widget", "yiwen-app"),
        ("/demo", "yiwen-app"),
        ("/api", "yiwen-app"),
        ("/staff", "yiwen-app"),
        ("/healthz", "yiwen-app"),
    }
    assert routes == expected
    # Rasa's admin API is reachable through no rule: no Rasa route is a catch-all.
    for _ingress, path, _type, backend in ingress_routes():
        assert path != "/", f"{backend} would expose everything"


def test_conversations_keep_their_replica_through_the_ingress() -> None:
    annotation = "nginx.ingress.kubernetes.io/"
    for ingress, _path, _type, backend in ingress_routes():
        notes = ingress["metadata"].get("annotations", {})
        if backend != "yiwen-rasa":
            continue
        hashed = notes.get(annotation + "upstream-hash-by", "")
        cookie = notes.get(annotation + "affinity") == "cookie"
        assert hashed.startswith("$") or cookie, ingress["metadata"]["name"]
        # Longer than a turn that waits out a dead replica's lock (rasa.yaml).
        assert int(notes[annotation + "proxy-read-timeout"]) >= 30
    wechat = named("Ingress", "yiwen-wechat")["metadata"]["annotations"]
    assert wechat[annotation + "upstream-hash-by"] == "$arg_openid"


def test_secrets_hold_placeholders_only() -> None:
    secrets = of_kind("Secret")
    assert secrets
    for secret in secrets:
        assert "data" not in secret, "base64 values could hide a real secret"
        for key, value in secret["stringData"].items():
            if "://" in value:  # a store URL: the password is the placeholder, the host an example
                parts = urlsplit(value)
                assert parts.password == "CHANGE-ME", key
                assert (parts.hostname or "").endswith(".example.internal"), key
            else:
                assert value == "CHANGE-ME", f"{key} is not a placeholder"
    for _path, doc in k8s_objects():
        if doc["kind"] == "ConfigMap":
            for key in doc["data"]:
                assert not re.search("TOKEN|SECRET|PASSWORD|_URL$", key) or key in {
                    "YIWEN_TICKET_API_URL",
                    "YIWEN_ACTION_URL",
                    "YIWEN_RASA_URL",
                }, f"{key} belongs in the Secret"


def test_manifest_settings_are_real_settings() -> None:
    names = set()
    for _path, doc in k8s_objects():
        if doc["kind"] in ("ConfigMap", "Secret"):
            names |= set(doc.get("data", {})) | set(doc.get("stringData", {}))
        if doc["kind"] in ("Deployment", "Job"):
            for container in doc["spec"]["template"]["spec"]["containers"]:
                names |= set(env_of(container))
    unknown = {n for n in names if n.startswith("YIWEN_")} - SETTINGS_NAMES
    assert not unknown, f"not in core/settings.py: {sorted(unknown)}"


def test_kubectl_renders_the_kustomization() -> None:
    kubectl = shutil.which("kubectl")
    if not kubectl:
        pytest.skip("kubectl not installed: the kustomization was not rendered")
    result = subprocess.run(
        [kubectl, "kustomize", str(K8S)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    rendered = [d for d in yaml.safe_load_all(result.stdout) if d]
    assert len(rendered) == len(k8s_objects())
    for doc in rendered:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "yiwen"
    images = {
        c["image"]
        for d in rendered
        if d["kind"] in ("Deployment", "Job")
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert all(image.startswith("registry.example.gov.cn/yiwen/") for image in images)


# --------------------------------------------------------------------------- compose


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_compose_services_build_from_the_repository() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "rasa", "actions", "app", "nginx", "ingest"} <= set(services)
    for name, service in services.items():
        build = service.get("build")
        if build is None:
            assert "image" in service, name
            continue
        context = (DEPLOY / build["context"]).resolve()
        assert context == REPO, name
        assert (context / build["dockerfile"]).is_file(), name


def test_compose_healthchecks_replicas_and_start_order() -> None:
    services = compose()["services"]
    for name, service in services.items():
        if name != "ingest":  # one-shot
            assert service["healthcheck"]["test"], name
    assert services["rasa"]["deploy"]["replicas"] == 2
    assert services["actions"]["deploy"]["replicas"] == 2
    assert services["rasa"]["healthcheck"]["test"][-3:] == ["-m", "bot.container", "probe"]
    assert services["rasa"]["healthcheck"]["start_period"] in ("180s", "3m")
    for name, service in services.items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in services, name
            wanted = (
                "service_completed_successfully" if dependency == "ingest" else "service_healthy"
            )
            assert condition["condition"] == wanted, f"{name} → {dependency}"
    env = services["rasa"]["environment"]
    assert (
        env["SANIC_WORKERS"]
        == env["TF_NUM_INTRAOP_THREADS"]
        == env["TF_NUM_INTEROP_THREADS"]
        == "1"
    )
    # Only nginx is published: Rasa's admin API, the action server and the stores are not.
    assert [n for n, s in services.items() if s.get("ports")] == ["nginx"]


def test_compose_uses_real_settings_names_only() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    used = set(re.findall(r"\bYIWEN_[A-Z0-9_]+", text))
    assert used, "the compose file is configured through YIWEN_* settings"
    unknown = used - SETTINGS_NAMES
    assert not unknown, f"not in core/settings.py: {sorted(unknown)}"
    example = (DEPLOY / "env.example").read_text(encoding="utf-8")
    assigned = set(re.findall(r"^#?\s*(YIWEN_[A-Z0-9_]+)=", example, flags=re.MULTILINE))
    assert assigned and assigned <= SETTINGS_NAMES
    # Every required secret (${X:?…}) is in the example, with a placeholder.
    for required in set(re.findall(r"\$\{([A-Z0-9_]+):\?", text)):
        assert re.search(rf"^{required}=CHANGE-ME$", example, flags=re.MULTILINE), required


def test_docker_compose_config() -> None:
    docker = shutil.which("docker")
    if (
        not docker
        or subprocess.run(
            [docker, "compose", "version"], capture_output=True, check=False
        ).returncode
    ):
        pytest.skip("no `docker compose` here: `docker compose config` was not run")
    env = {
        **os.environ,
        "POSTGRES_PASSWORD": "x",
        "YIWEN_RASA_AUTH_TOKEN": "x",
        "YIWEN_TICKET_API_TOKEN": "x",
    }
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------- Dockerfiles


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in dockerfile.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or (line.startswith("#") and not pending):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def dockerignore() -> list[str]:
    patterns = []
    for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            patterns.append(line.rstrip("/"))
    return patterns


def ignored(path: str) -> bool:
    parts = Path(path).parts
    for pattern in dockerignore():
        for i in range(1, len(parts) + 1):
            if fnmatch.fnmatch("/".join(parts[:i]), pattern):
                return True
    return False


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_copies_existing_paths_and_runs_unprivileged(dockerfile: Path) -> None:
    steps = instructions(dockerfile)
    copied = 0
    for instruction, args in steps:
        if instruction != "COPY":
            continue
        words = shlex.split(args)
        if any(w.startswith("--from=") for w in words):
            continue
        *sources, _destination = [w for w in words if not w.startswith("--")]
        for source in sources:
            assert (REPO / source).exists(), (
                f"{dockerfile.name}: COPY {source}: not in the repository"
            )
            assert not ignored(source), (
                f"{dockerfile.name}: COPY {source} is excluded by .dockerignore"
            )
            copied += 1
    assert copied >= 5
    installs = " ".join(args for instruction, args in steps if instruction == "RUN")
    requirement_files = re.findall(r"-r\s+/tmp/(requirements/\S+)", installs)
    assert requirement_files
    for requirement in requirement_files:
        assert (REPO / requirement).is_file(), requirement
    # The last stage switches to a non-root user.
    last_stage = max(i for i, (instruction, _a) in enumerate(steps) if instruction == "FROM")
    users = [args for instruction, args in steps[last_stage:] if instruction == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert "HEALTHCHECK" in {instruction for instruction, _a in steps[last_stage:]}
    assert "--auth-token" not in dockerfile.read_text(encoding="utf-8").replace(
        "never pass --auth-token", ""
    )


def test_rasa_image_starts_rasa_through_the_token_wrapper() -> None:
    steps = instructions(DEPLOY / "docker" / "rasa.Dockerfile")
    entrypoint = json.loads(next(a for i, a in steps if i == "ENTRYPOINT"))
    command = json.loads(next(a for i, a in steps if i == "CMD"))
    assert entrypoint == ["python", "-m", "bot.container"] and command == ["serve"]
    from bot import container

    # bot.container hands Rasa's arguments to bot.rasa_server, which adds the token.
    assert "rasa_server" in Path(container.__file__).read_text(encoding="utf-8")
    assert any("python:3.10" in a for i, a in steps if i in ("ARG", "FROM"))
    assert any(a.strip() == "python -m bot.train" for i, a in steps if i == "RUN"), (
        "the image trains its model"
    )


def test_app_image_installs_cpu_torch_from_pytorchs_index() -> None:
    text = (DEPLOY / "docker" / "app.Dockerfile").read_text(encoding="utf-8")
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in text
    assert "torch==" in (REPO / "requirements" / "app.txt").read_text(encoding="utf-8")
    assert "python:3.11" in text


# --------------------------------------------------------------------------- nginx


def nginx_binary() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if Path("/usr/sbin/nginx").is_file() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Backend(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class _Handler(BaseHTTPRequestHandler):
    server: _Backend

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = json.dumps({"replica": self.server.name, "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _reply

    def log_message(self, *_args: Any) -> None:
        pass


def nginx_config(rasa: list[int], app: int, listen: int, prefix: Path) -> str:
    """deploy/nginx/nginx.conf with its host names replaced by loopback ports.

    nginx resolves upstream host names while it checks the file; compose's DNS gives
    ``rasa`` one address per replica, so it becomes one server line per fake replica.
    """
    text = NGINX_CONF.read_text(encoding="utf-8")
    rasa_line = re.search(r"^\s*server rasa:5005 (.*);$", text, flags=re.MULTILINE)
    assert rasa_line, "upstream yiwen_rasa names server rasa:5005"
    servers = "\n".join(f"        server 127.0.0.1:{p} {rasa_line.group(1)};" for p in rasa)
    text = text.replace(rasa_line.group(0), servers)
    text = text.replace("server app:8000", f"server 127.0.0.1:{app}")
    text = text.replace("listen 8080;", f"listen 127.0.0.1:{listen};").replace(
        "listen [::]:8080;", ""
    )
    text = text.replace("pid /tmp/nginx.pid;", f"pid {prefix}/nginx.pid;")
    text = text.replace("access_log /dev/stdout;", "access_log off;")
    text = text.replace("error_log /dev/stderr warn;", f"error_log {prefix}/error.log warn;")
    assert "rasa:" not in text and "app:8000" not in text
    return text


@pytest.fixture()
def nginx_entry(tmp_path: Path) -> Iterator[tuple[str, dict[str, _Backend]]]:
    binary = nginx_binary()
    if not binary:
        pytest.skip("nginx not installed: deploy/nginx/nginx.conf was not checked")
    backends = {name: _Backend(name) for name in ("rasa-1", "rasa-2", "app")}
    listen = free_port()
    conf = tmp_path / "nginx.conf"
    ports = [backends["rasa-1"].server_address[1], backends["rasa-2"].server_address[1]]
    conf.write_text(
        nginx_config(ports, backends["app"].server_address[1], listen, tmp_path), encoding="utf-8"
    )
    base = [binary, "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")]
    checked = subprocess.run([*base, "-t"], capture_output=True, text=True, timeout=30, check=False)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([*base, "-g", "daemon off;"], stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{listen}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", listen), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield url, backends
    finally:
        process.terminate()
        process.wait(timeout=10)
        for backend in backends.values():
            backend.shutdown()
            backend.server_close()


def request(url: str, body: dict[str, Any] | bytes | None = None) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


def test_nginx_routes_each_conversation_to_one_replica(
    nginx_entry: tuple[str, dict[str, _Backend]],
) -> None:
    url, backends = nginx_entry
    rest = url + "/webhooks/rest/webhook"
    placed: dict[str, str] = {}
    for sender in (f"conversation-{i}" for i in range(24)):
        seen = {
            request(rest, {"sender": sender, "message": "你好"})[1]["replica"] for _ in range(3)
        }
        assert len(seen) == 1, f"{sender} moved between replicas: {seen}"
        placed[sender] = seen.pop()
    assert set(placed.values()) == {"rasa-1", "rasa-2"}, "both replicas take conversations"

    # WeChat: hashed on ?openid=, whatever the body says.
    wechat = url + "/webhooks/wechat/webhook?openid=o-user-1&signature=s"
    assert len({request(wechat, b"<xml/>")[1]["replica"] for _ in range(5)}) == 1
    body = b"<xml><FromUserName><![CDATA[o-user-2]]></FromUserName></xml>"
    assert (
        len({request(url + "/webhooks/wechat/webhook", body)[1]["replica"] for _ in range(5)}) == 1
    )

    # A replica that is down: its conversations fail over, the others stay where they are.
    down = placed["conversation-0"]
    backends[down].shutdown()
    backends[down].server_close()
    for sender, replica in placed.items():
        status, reply = request(rest, {"sender": sender, "message": "还在吗"})
        assert status == 200
        expected = (
            replica if replica != down else next(n for n in ("rasa-1", "rasa-2") if n != down)
        )
        assert reply["replica"] == expected


def test_nginx_blocks_everything_but_the_public_paths(
    nginx_entry: tuple[str, dict[str, _Backend]],
) -> None:
    url, _backends = nginx_entry
    for path in (
        "/healthz",
        "/widget/yiwen-widget.js",
        "/demo",
        "/api/search?q=x",
        "/staff",
        "/staff/static/a.js",
    ):
        status, reply = request(url + path)
        assert (status, reply.get("replica")) == (200, "app"), path
    assert request(url + "/socket.io/?EIO=4&transport=polling")[1]["replica"].startswith("rasa")
    for path in (
        "/status",
        "/model",
        "/conversations/x/tracker",
        "/version",
        "/webhook",
        "/",
        "/docs",
    ):
        assert request(url + path)[0] == 404, path
    assert request(url + "/webhooks/rest/webhook")[0] == 403, "GET on the chat endpoint"
    # Loopback is exempt from limit_req (load tests from the machine itself).
    statuses = {request(url + "/api/search?q=x")[0] for _ in range(150)}
    assert statuses == {200}
