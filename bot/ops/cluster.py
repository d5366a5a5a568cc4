"""`python -m bot cluster`: N Rasa replicas and M action servers behind nginx, on one machine.

The production profile in miniature (docs/deploy.md maps it to several
machines): every Rasa replica shares the SQL tracker store and the Redis lock
store named in settings, so any replica can take any message of a
conversation — Rasa's RedisLockStore queues concurrent messages of one
conversation and processes them one at a time, in order of arrival, across
replicas. nginx spreads HTTP messages over the replicas (and retries another
replica when one refuses the connection); socket.io stays on one replica per
client (ip_hash), as its polling transport requires. Action servers sit behind
their own nginx upstream; with ACTIONS_IN_PROCESS the replicas run the actions
themselves and `--action-servers 0` starts none (docs/deploy.md). nginx listens on RASA_INTERFACE (loopback by default);
the replicas and action servers on loopback only, so nothing bypasses it.

The supervisor restarts a replica or action server that exits, until it is
stopped with Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bot.ops.endpoints import server_args, write_credentials, write_endpoints
from bot.settings import PROJECT_ROOT, Settings

NGINX_CONF = """\
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {work}/tmp;
    proxy_temp_path {work}/tmp;
    # Bodies stay in memory (workers run unprivileged and need no temp files).
    client_max_body_size 64k;
    client_body_buffer_size 64k;
    proxy_max_temp_file_size 0;
    # Connections to the replicas and action servers are kept open between
    # requests (a new TCP connection for every message and every action call
    # was two accepts more per call, issue 18), and closed by nginx after 4 s
    # idle, before the servers would (Sanic: 5 s for the action server, 120 s
    # for Rasa), so nginx never sends a message on a connection a server is
    # closing.
    upstream rasa {{
{rasa_servers}
        keepalive 32;
        keepalive_timeout 4s;
    }}
    upstream rasa_socketio {{
        ip_hash;
{rasa_servers}
    }}
{actions_upstream}    server {{
        listen {interface}:{port};
        location /socket.io/ {{
            proxy_pass http://rasa_socketio;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_set_header Host $host;
        }}
        location / {{
            proxy_pass http://rasa;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            # A replica that is down refuses the connection: try the next one.
            # nginx retries a POST only if it was never sent to a server, so a
            # message is never processed twice.
            proxy_next_upstream error;
            proxy_read_timeout 120s;
        }}
    }}
{actions_server}}}
"""

# The action servers' upstream and nginx server: left out when the replicas run the
# actions themselves (ACTIONS_IN_PROCESS, no action server).
ACTIONS_UPSTREAM = """\
    upstream actions {{
{action_servers}
        keepalive 32;
        keepalive_timeout 4s;
    }}
"""
ACTIONS_SERVER = """\
    server {{
        listen 127.0.0.1:{actions_port};
        # An action call carries the conversation's tracker.
        client_max_body_size 8m;
        client_body_buffer_size 8m;
        location / {{
            proxy_pass http://actions;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_next_upstream error;
        }}
    }}
"""


@dataclass
class Child:
    name: str
    args: list[str]
    log: Path
    port: int = 0
    health_path: str = "/"
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = field(default=0)
    host: str = "127.0.0.1"

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def health(self) -> str:
        return f"http://{self.address}{self.health_path}"

    def start(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            self.args, cwd=PROJECT_ROOT, env=env, stdout=self.log.open("a"), stderr=subprocess.STDOUT
        )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:  # never started, or already gone
            return
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def plan(
    settings: Settings, *, replicas: int, action_servers: int, port: int, model: Path, work: Path, first_port: int
) -> tuple[list[Child], list[Child], str]:
    """The processes and nginx configuration for a cluster (nothing started)."""
    if replicas > 1 and not (settings.tracker_store_url and settings.lock_store_url):
        raise SystemExit(
            "cluster: more than one replica needs a shared tracker store and lock store; "
            "set TRACKER_STORE_URL (PostgreSQL) and LOCK_STORE_URL (Redis) — see docs/deploy.md"
        )
    if action_servers < 1 and not settings.actions_in_process:
        raise SystemExit("cluster: no action server; set ACTIONS_IN_PROCESS=true to run the actions in the replicas")
    python = sys.executable
    rasa = str(Path(python).parent / "rasa")
    actions_port = port + 1
    endpoints = write_endpoints(
        work / "endpoints.yml", settings, action_server_url=f"http://127.0.0.1:{actions_port}/webhook"
    )
    action_children = [
        Child(
            f"actions-{i}",
            [python, "-m", "actions.server", "--port", str(first_port + i)],
            work / f"actions-{i}.log",
            first_port + i,
            "/health",
        )
        for i in range(action_servers)
    ]
    credentials = write_credentials(work / "credentials.yml", settings, PROJECT_ROOT / "credentials.yml")
    rasa_args = [
        "--endpoints",
        str(endpoints),
        "--credentials",
        str(credentials),
        *server_args(settings, interface="127.0.0.1"),  # behind nginx: never reachable around it
    ]
    rasa_children = []
    for i in range(replicas):
        p = first_port + 100 + i
        rasa_children.append(
            Child(
                f"rasa-{i}",
                [rasa, "run", "--model", str(model), "--port", str(p), *rasa_args],
                work / f"rasa-{i}.log",
                p,
            )
        )
    interface = settings.rasa_interface
    conf = NGINX_CONF.format(
        work=work,
        interface=f"[{interface}]" if ":" in interface else interface,
        port=port,
        rasa_servers="\n".join(f"        server {c.address} max_fails=1 fail_timeout=5s;" for c in rasa_children),
        actions_upstream=ACTIONS_UPSTREAM.format(
            action_servers="\n".join(
                f"        server {c.address} max_fails=1 fail_timeout=5s;" for c in action_children
            )
        )
        if action_children
        else "",
        actions_server=ACTIONS_SERVER.format(actions_port=actions_port) if action_children else "",
    )
    return rasa_children, action_children, conf


def reachable(interface: str) -> str:
    """An address to reach a server listening on `interface` from this machine."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(interface, interface)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def run(
    settings: Settings, *, replicas: int, action_servers: int, port: int, model: Path, env: dict[str, str], work: Path
) -> int:
    # A conversation's queued messages wait on Redis tickets that expire after
    # TICKET_LOCK_LIFETIME seconds (Rasa's default: 60). Under a burst on a busy
    # machine the wait can exceed that, and expired tickets would let two
    # messages of one conversation run at once; give them room.
    env = {"TICKET_LOCK_LIFETIME": "300", **env}
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        print("cluster: nginx is not installed (Debian: apt-get install nginx-light)", file=sys.stderr)
        return 2
    (work / "tmp").mkdir(parents=True, exist_ok=True)
    (work / "tmp").chmod(0o1777)  # nginx workers run as an unprivileged user
    rasa_children, action_children, conf = plan(
        settings,
        replicas=replicas,
        action_servers=action_servers,
        port=port,
        model=model,
        work=work,
        first_port=port + 10,
    )
    (work / "nginx.conf").write_text(conf)
    proxy = Child(
        "nginx",
        [nginx, "-c", str(work / "nginx.conf"), "-e", str(work / "nginx-error.log"), "-g", "daemon off;"],
        work / "nginx.log",
        port,
        host=reachable(settings.rasa_interface),
    )
    children = [*action_children, *rasa_children]
    # A port taken by another program would pass the health check below with
    # somebody else's server: refuse to start instead.
    taken = [p for p in (port, port + 1, *(c.port for c in children)) if not _port_free(p)]
    if taken:
        print(f"cluster: port(s) {', '.join(map(str, taken))} already in use; choose another --port", file=sys.stderr)
        return 2
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    deadline = time.time() + 300
    # One at a time: the first replica creates the tracker store's tables.
    for child in [*children, proxy]:
        child.start(env)
        while not stopping and not _healthy(child.health):
            if time.time() > deadline or not child.alive():
                print(f"cluster: {child.name} did not start; see {child.log}", file=sys.stderr)
                stopping = True
            time.sleep(1)

    def record_pids() -> None:
        # Every child has been started by now (the start-up loop starts each one).
        pids = {c.name: c.proc.pid for c in [*children, proxy] if c.proc is not None}
        (work / "processes.json").write_text(json.dumps(pids))

    if not stopping:
        record_pids()
        print(
            f"cluster: {replicas} Rasa replica(s) and {action_servers} action server(s) behind "
            f"http://{proxy.address} (logs in var/cluster/)",
            flush=True,
        )
    while not stopping:
        for child in children:
            if not child.alive():
                child.restarts += 1
                print(f"cluster: {child.name} exited; restarting", flush=True)
                child.start(env)
                record_pids()
        if not proxy.alive():
            print("cluster: nginx exited; stopping", file=sys.stderr)
            break
        time.sleep(0.5)
    for child in [proxy, *children]:
        child.stop()
    return 0
