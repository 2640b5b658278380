"""The production profile: nginx in front of N Rasa and N action-server replicas.

``make run-prod`` (``yiwen up --prod``) plans the processes from the settings, writes
an nginx and a supervisord configuration into ``<data_dir>/prod/`` and runs supervisord
in the foreground. Why supervisord and not systemd units: it comes from PyPI into the
app environment, so the profile needs no root and no init system (containers, CI, a
developer's laptop), it restarts a crashed child with a growing delay, and its XML-RPC
socket tells ``yiwen ps`` the real pid of every server. On a host that runs systemd,
the same commands go into units (``yiwen up --prod --print``) unchanged.

Why the numbers below agree (Rasa 3.6 OSS, see README "Production profile"):

* ``RedisLockStore`` is not atomic (rasa#9213): nginx sends every message of one
  sender to one replica (``hash … consistent`` on the sender id read from the body),
  and to the next one on the ring only when that replica refuses or dies.
* A replica killed mid-turn leaves its lock ticket in Redis; the conversation's next
  turn waits until it expires. ``TICKET_LOCK_LIFETIME`` = ``lock_lifetime_s`` (5 s),
  the action call is cut at ``ACTION_TIMEOUT_S`` (< the lifetime, so a held lock
  always belongs to a live turn), a submit action gives the ticket API
  ``TICKET_TIMEOUT_S`` (< the action timeout, so a slow ticket API still leaves time to
  answer with the outbox's LOCAL reference), and nginx waits ``PUBLIC_READ_TIMEOUT_S``
  for a reply: the 10 s after which a turn counts as failed anyway. A reply that
  does not come in time is never sent to another replica: the turn may still be
  running where it is, and a second copy of the message would run twice.
* Each replica runs one Sanic worker and one TensorFlow / BLAS thread, so N replicas
  on N cores do not fight over them.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from string import Template

from bot.endpoints_profile import endpoints_config, write_endpoints
from bot.processes import rasa_services
from core.replies import strings
from core.settings import REPO_ROOT, Settings, child_environment, get_settings

#: Seconds Rasa waits on the action server (cut by nginx's internal balancer).
ACTION_TIMEOUT_S = 4
#: Seconds nginx waits for a chat reply: the lock lifetime plus a slow turn, and the
#: limit after which a turn counts as failed.
PUBLIC_READ_TIMEOUT_S = 10
#: Seconds a submit action waits for the ticket API before it keeps the complaint in its
#: outbox and answers with a LOCAL reference: inside ACTION_TIMEOUT_S, or the citizen
#: would get no reply at all when the ticket API is slow.
TICKET_TIMEOUT_S = 2.5
#: Per-replica environment: one Sanic worker, one TF / BLAS thread.
REPLICA_THREADS = {
    "SANIC_WORKERS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
TEMPLATES = Path(__file__).with_name("templates")
KINDS = ("rasa", "actions", "app", "nginx", "manager")


@dataclass
class Proc:
    """One server process of the topology (what supervisord runs)."""

    name: str
    kind: str
    port: int
    cmd: list[str]
    env: dict[str, str] = field(default_factory=dict)
    #: Readiness URL; Rasa's carries the admin token, so it is never printed.
    ready_url: str = ""
    #: Prometheus scrape address on loopback (0: none).
    metrics_port: int = 0


@dataclass
class Plan:
    """Every process, port and file of one production topology."""

    dir: Path
    public_port: int
    actions_lb_port: int
    replicas: int
    procs: list[Proc]

    @property
    def supervisor_conf(self) -> Path:
        return self.dir / "supervisord.conf"

    @property
    def supervisor_socket(self) -> Path:
        return self.dir / "supervisor.sock"

    @property
    def supervisor_log(self) -> Path:
        return self.dir / "logs" / "supervisord.log"

    @property
    def nginx_conf(self) -> Path:
        return self.dir / "nginx" / "nginx.conf"

    @property
    def plan_file(self) -> Path:
        return self.dir / "topology.json"

    def of_kind(self, kind: str) -> list[Proc]:
        return [p for p in self.procs if p.kind == kind]

    def public(self) -> dict:
        """What other processes may read (``topology.json``): no commands, no tokens."""
        return {
            "public_port": self.public_port,
            "actions_lb_port": self.actions_lb_port,
            "replicas": self.replicas,
            "supervisor_socket": str(self.supervisor_socket),
            "supervisor_log": str(self.supervisor_log),
            "procs": [
                {"name": p.name, "kind": p.kind, "port": p.port, "metrics_port": p.metrics_port}
                for p in self.procs
            ],
        }


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )


def plan(settings: Settings | None = None, root: Path = REPO_ROOT) -> Plan:
    """The processes of the production profile, from the settings alone."""
    settings = settings or get_settings()
    env = child_environment()
    n = settings.server.replicas
    prod = settings.data_dir / "prod"
    actions_lb = settings.bot.action_port - 1  # 5054: nginx's balancer over the actions
    procs: list[Proc] = []
    endpoints = prod / "endpoints.yml"
    generated = endpoints_config(settings.rasa, f"http://127.0.0.1:{actions_lb}/webhook") or {
        "action_endpoint": {"url": f"http://127.0.0.1:{actions_lb}/webhook"}
    }
    write_endpoints(generated, endpoints)
    for i in range(1, n + 1):
        replica = settings.model_copy(deep=True)
        replica.rasa.port = settings.rasa.port + i - 1
        replica.bot.action_port = settings.bot.action_port + i - 1
        actions, rasa = rasa_services(replica, env, root)
        metrics = settings.server.public_port + 10 + i  # +30 for the action server
        procs.append(
            Proc(
                name=f"actions-{i}",
                kind="actions",
                port=replica.bot.action_port,
                cmd=actions["cmd"],
                env={
                    "YIWEN_TICKET_API_URL": f"http://127.0.0.1:{settings.server.port}",
                    "YIWEN_ACTIONS_PRELOAD": "1",
                    "YIWEN_ACTIONS_PRELOAD_BLOCKING": "1",
                    "YIWEN_TICKET_TIMEOUT": str(TICKET_TIMEOUT_S),
                    "YIWEN_ACTIONS_METRICS_PORT": str(metrics + 20),
                    **REPLICA_THREADS,
                },
                ready_url=actions["ready_url"],
                metrics_port=metrics + 20,
            )
        )
        cmd = list(rasa["cmd"])
        cmd[cmd.index("--endpoints") + 1] = str(endpoints)
        # The widget's socket.io connects through nginx: the public origin is its origin.
        public = [f"http://127.0.0.1:{settings.server.public_port}"]
        public.append(f"http://localhost:{settings.server.public_port}")
        cmd[cmd.index("--interface") : cmd.index("--interface")] = public
        procs.append(
            Proc(
                name=f"rasa-{i}",
                kind="rasa",
                port=replica.rasa.port,
                cmd=cmd,
                env={
                    **{k: v for k, v in rasa["env"].items() if k.startswith("SANIC_")},
                    **REPLICA_THREADS,
                    "TF_CPP_MIN_LOG_LEVEL": "2",
                    "TICKET_LOCK_LIFETIME": str(settings.server.lock_lifetime_s),
                    "YIWEN_RASA_METRICS_PORT": str(metrics),
                    "PYTHONPATH": str(root),
                },
                ready_url=rasa["ready_url"],
                metrics_port=metrics,
            )
        )
    s = settings.server
    procs.append(
        Proc(
            name="app",
            kind="app",
            port=s.port,
            cmd=[
                str(root / ".venv/app/bin/yiwen"),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(s.port),
                "--workers",
                str(s.app_workers),
            ],
            env={"PROMETHEUS_MULTIPROC_DIR": str(prod / "metrics"), **REPLICA_THREADS},
            ready_url=f"http://127.0.0.1:{s.port}/healthz",
        )
    )
    nginx = nginx_binary() or "nginx"
    procs.append(
        Proc(
            name="nginx",
            kind="nginx",
            port=s.public_port,
            cmd=[nginx, "-p", str(prod / "nginx"), "-c", str(prod / "nginx" / "nginx.conf")],
            ready_url=f"http://127.0.0.1:{s.public_port}/nginx-alive",
        )
    )
    return Plan(
        dir=prod, public_port=s.public_port, actions_lb_port=actions_lb, replicas=n, procs=procs
    )


def render_nginx(p: Plan) -> str:
    """nginx.conf: the one public entry, the sender hash, the action balancer."""

    def servers(kind: str) -> str:
        # max_fails=0: a dead replica refuses the connection at once and one still
        # loading answers 503 at once, so nginx gains nothing by marking either down;
        # marking did harm: one 503 from the survivor while the other restarted left
        # "no live upstreams" for every conversation for fail_timeout.
        return "\n".join(f"    server 127.0.0.1:{x.port} max_fails=0;" for x in p.of_kind(kind))

    app = p.of_kind("app")[0]
    user = "user www-data;" if os.geteuid() == 0 else ""
    # safe_substitute: nginx's own $variables stay as they are.
    return Template((TEMPLATES / "nginx.conf").read_text("utf-8")).safe_substitute(
        user=user,
        prefix=str(p.nginx_conf.parent),
        public_port=p.public_port,
        actions_lb_port=p.actions_lb_port,
        rasa_servers=servers("rasa"),
        action_servers=servers("actions"),
        app_port=app.port,
        action_timeout=ACTION_TIMEOUT_S,
        busy_text=strings()["unavailable"]["busy"].replace("'", "’").replace('"', "”"),
        read_timeout=PUBLIC_READ_TIMEOUT_S,
    )


def _env_line(env: dict[str, str]) -> str:
    # supervisord's KEY="value" list; % is its interpolation character.
    return ",".join(f'{k}="{v.replace("%", "%%")}"' for k, v in env.items())


def render_supervisord(p: Plan) -> str:
    logs = p.supervisor_log.parent
    parts = [
        "; Generated by `yiwen up --prod` from the settings; edit the settings, not this file.",
        "[unix_http_server]",
        f"file={p.supervisor_socket}",
        "chmod=0700",
        "",
        "[supervisord]",
        "nodaemon=true",
        f"logfile={p.supervisor_log}",
        f"pidfile={p.dir / 'supervisord.pid'}",
        f"childlogdir={logs}",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{p.supervisor_socket}",
        "",
    ]
    for proc in p.procs:
        cmd = " ".join(_quote(c) for c in proc.cmd)
        parts += [
            f"[program:{proc.name}]",
            f"command={cmd.replace('%', '%%')}",
            f"directory={REPO_ROOT}",
            "autostart=true",
            "autorestart=true",
            # supervisord waits 1 s more before each retry while a child keeps dying.
            "startsecs=3",
            "startretries=1000",
            "stopasgroup=true",
            "killasgroup=true",
            "stopwaitsecs=15",
            f"stdout_logfile={logs / (proc.name + '.log')}",
            "redirect_stderr=true",
            "stdout_logfile_maxbytes=20MB",
            "stdout_logfile_backups=2",
        ]
        if proc.env:
            parts.append(f"environment={_env_line(proc.env)}")
        parts.append("")
    return "\n".join(parts)


def _quote(arg: str) -> str:
    return f'"{arg}"' if any(c in arg for c in " ;\"'") else arg


def write(p: Plan) -> None:
    """Write the configuration files (mode 600: they name the stores)."""
    from core.service_secrets import write_private_text

    nginx_dir = p.nginx_conf.parent
    for sub in ("logs", "temp/client", "temp/proxy"):
        (nginx_dir / sub).mkdir(parents=True, exist_ok=True)
    p.supervisor_log.parent.mkdir(parents=True, exist_ok=True)
    metrics = p.dir / "metrics"
    shutil.rmtree(metrics, ignore_errors=True)  # prometheus multiprocess: fresh per start
    metrics.mkdir(parents=True)
    if os.geteuid() == 0:  # nginx's workers run as www-data and buffer into temp/
        for sub in ("temp", "temp/client", "temp/proxy"):
            shutil.chown(nginx_dir / sub, "www-data")
    (nginx_dir / "nginx.conf").write_text(render_nginx(p), "utf-8")
    shutil.copyfile(TEMPLATES / "nginx-tls.conf.example", nginx_dir / "nginx-tls.conf.example")
    write_private_text(p.supervisor_conf, render_supervisord(p))
    p.plan_file.write_text(json.dumps(p.public(), ensure_ascii=False, indent=2), "utf-8")


def load_public(settings: Settings | None = None) -> dict | None:
    """``topology.json`` of the running (or last) production profile, if any."""
    path = (settings or get_settings()).data_dir / "prod" / "topology.json"
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def as_dict(p: Plan) -> dict:
    return asdict(p)


#: The path that proves each kind of process can serve. Rasa answers ``/`` with no model
#: loaded, so only ``/status`` (with the admin token) proves a model is there.
READY_PATHS = {
    "rasa": "/status",
    "actions": "/health",
    "app": "/healthz",
    "nginx": "/nginx-alive",
}


def is_ready(proc: dict, token: str, timeout: float = 2.0) -> bool:
    """One process's own readiness check, the one ``yiwen ps``, ``/healthz``, the rolling
    update and the tests all ask, so they never disagree about a replica."""
    import httpx

    url = f"http://127.0.0.1:{proc['port']}{READY_PATHS[proc['kind']]}"
    try:
        return httpx.get(url, params={"token": token}, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


__all__ = [
    "ACTION_TIMEOUT_S",
    "KINDS",
    "PUBLIC_READ_TIMEOUT_S",
    "READY_PATHS",
    "Plan",
    "Proc",
    "is_ready",
    "load_public",
    "nginx_binary",
    "plan",
    "render_nginx",
    "render_supervisord",
    "write",
]
if __name__ == "__main__":  # pragma: no cover
    sys.exit("use `yiwen up --prod`")
