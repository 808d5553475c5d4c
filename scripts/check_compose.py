"""Checks that compose.yaml has the topology of the design card, or that the
cluster stack (compose.yaml with compose.cluster.yaml, as `docker compose
config` merges them) keeps the same isolation.

    .venv/bin/python scripts/check_compose.py [compose.yaml]
    docker compose -f compose.yaml -f compose.cluster.yaml config |
      .venv/bin/python scripts/check_compose.py --cluster -

Exits non-zero with a line per broken rule.
"""
import sys

import yaml

cluster = "--cluster" in sys.argv[1:]
args = [arg for arg in sys.argv[1:] if arg != "--cluster"]
path = args[0] if args else "compose.yaml"
if path == "-":
    compose = yaml.safe_load(sys.stdin)
else:
    with open(path, encoding="utf-8") as f:
        compose = yaml.safe_load(f)

problems = []


def expect(condition, message):
    if not condition:
        problems.append(message)


def finish(what):
    if problems:
        print(f"{what}: {len(problems)} problem(s)", file=sys.stderr)
        for problem in problems:
            print(f"- {problem}", file=sys.stderr)
        sys.exit(1)
    print(f"{what}: topology ok ({len(compose.get('services', {}))} services, {len(compose.get('networks', {}))} networks)")
    sys.exit(0)


def check_cluster():
    """The merged cluster stack: the database side on back-net only, the load
    balancer the only published port, the client on front-net only."""
    services = compose.get("services", {})
    nets = {name: sorted(service.get("networks") or {}) for name, service in services.items()}
    published = {name: service.get("ports") or [] for name, service in services.items()}
    expect(
        {"galera1", "galera2", "galera3", "db", "api", "lb", "client"} <= set(services),
        f"services include galera1-3, db, api, lb, client (got {sorted(services)})",
    )
    expect((compose.get("networks", {}).get("back-net") or {}).get("internal") is True, "back-net is internal: true")
    for name in ("galera1", "galera2", "galera3", "db"):
        expect(nets.get(name) == ["back-net"], f"{name} is on back-net only (got {nets.get(name)})")
    expect(nets.get("api") == ["back-net", "front-net"], f"api is on front-net and back-net (got {nets.get('api')})")
    expect(nets.get("lb") == ["front-net"], f"lb is on front-net only (got {nets.get('lb')})")
    expect(nets.get("client") == ["front-net"], f"client is on front-net only (got {nets.get('client')})")
    expect(
        (services.get("api", {}).get("deploy") or {}).get("replicas", 1) >= 2,
        "api runs several replicas",
    )
    others = [name for name, ports in published.items() if ports and name != "lb"]
    expect(not others, f"only lb publishes a port (also: {others})")
    lb_ports = published.get("lb", [])
    expect(
        len(lb_ports) == 1 and lb_ports[0].get("host_ip") == "127.0.0.1" and lb_ports[0].get("target") == 8000,
        f"lb publishes 8000 on the host loopback only (got {lb_ports})",
    )
    expect(
        (services.get("client", {}).get("environment") or {}).get("API_URL") == "http://lb:8000",
        "client talks to http://lb:8000",
    )
    finish("cluster stack")


if cluster:
    check_cluster()

services = compose.get("services", {})
networks = compose.get("networks", {})
db, api, client = (services.get(name, {}) for name in ("db", "api", "client"))

expect(set(services) == {"db", "api", "client"}, f"services are db, api, client (got {sorted(services)})")
expect((networks.get("back-net") or {}).get("internal") is True, "back-net is internal: true")
expect("front-net" in networks, "front-net exists")
expect(db.get("networks") == ["back-net"], "db is on back-net only")
expect("ports" not in db and "expose" not in db, "db publishes no port")
expect("healthcheck" in db, "db has a health check")
expect(sorted(api.get("networks", [])) == ["back-net", "front-net"], "api is on front-net and back-net")
ports = api.get("ports", [])
expect(
    len(ports) == 1 and str(ports[0]).startswith("127.0.0.1:") and str(ports[0]).endswith(":8000"),
    f"api publishes 8000 on the host loopback only (got {ports})",
)
for name, target in (("api", "api"), ("client", "client")):
    build = services.get(name, {}).get("build") or {}
    expect(
        isinstance(build, dict) and build.get("context") == "." and build.get("target") == target
        and build.get("dockerfile", "Dockerfile") == "Dockerfile",
        f"{name} is the {target} target of the one root Dockerfile",
    )
expect(
    (api.get("depends_on") or {}).get("db", {}).get("condition") == "service_healthy",
    "api waits for a healthy db",
)
expect(api.get("healthcheck", {}).get("test") == ["CMD", "api", "--healthcheck"], "api checks itself without curl")
expect(client.get("networks") == ["front-net"], "client is on front-net only")
expect(client.get("environment", {}).get("API_URL") == "http://api:8000", "client talks to http://api:8000")
for name, service in (("api", api), ("client", client)):
    expect("shared:/shared" in service.get("volumes", []), f"{name} mounts the shared volume at /shared")
expect("shared" in compose.get("volumes", {}), "the shared volume is declared")

secrets = compose.get("secrets", {})
expect(set(secrets) >= {"db_password", "database_url", "api_token"}, "db password, database URL and token are secrets")
for name, secret in secrets.items():
    expect(str(secret.get("file", "")).startswith("./compose-secrets/"), f"secret {name} is a file in compose-secrets/")
for name, service in services.items():
    for key, value in (service.get("environment") or {}).items():
        secretive = any(word in key for word in ("PASSWORD", "TOKEN", "DATABASE_URL"))
        expect(
            not secretive or key.endswith("_FILE") or value == "yes",
            f"{name}: {key} holds a secret in the repo; use a *_FILE secret",
        )

finish(path)
