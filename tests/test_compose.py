"""`compose.yaml` and `deploy/fleet.sh` describe a fleet with settings the code really reads."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from crm_core.settings import Settings, env_names, secret_fields

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "compose.yaml"
FLEET = ROOT / "deploy" / "fleet.sh"
# Read by libraries crmbot uses, not by Settings: prometheus-client's multiprocess folder.
LIBRARY_VARIABLES = {"PROMETHEUS_MULTIPROC_DIR"}


def _known() -> set[str]:
    """Every variable Settings reads, and NAME_FILE for each secret one."""
    names = {name for field in Settings.model_fields for name in env_names(Settings, field)}
    files = {
        f"{name}_FILE" for field in secret_fields(Settings) for name in env_names(Settings, field)
    }
    return names | files | LIBRARY_VARIABLES


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


def _crmbot_services(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in data["services"].items() if svc.get("build") == "."}


def test_compose_parses_into_the_fleet_topology() -> None:
    """PostgreSQL, Chroma, a migration before the workers, and several workers on one port."""
    data = _compose()
    services = data["services"]
    assert {"postgres", "chroma", "migrate", "worker"} <= set(services)
    worker = services["worker"]
    assert worker["command"] == ["serve"]
    assert worker["deploy"]["replicas"] >= 2
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    env = worker["environment"]
    assert env["CRMBOT_HTTP_REUSE_PORT"] == "true"
    # The workers share the namespace that publishes their port.
    anchor = worker["network_mode"].removeprefix("service:")
    published = {p.split(":")[-1] for p in services[anchor]["ports"]}
    assert env["CRMBOT_HTTP_PORT"] in published
    assert env["CRMBOT_CHROMA_URL"].startswith("http://chroma:")
    assert "migrate" in _crmbot_services(data) and "worker" in _crmbot_services(data)


def test_compose_names_only_settings_that_exist() -> None:
    """Each variable given to a crmbot container (commented-out examples too) is one the
    settings read; secrets come from files, and every secret used is declared."""
    data = _compose()
    known = _known()
    declared = set(data["secrets"])
    for name, service in _crmbot_services(data).items():
        env = service.get("environment") or {}
        unknown = sorted(set(env) - known)
        assert not unknown, f"{name} names settings that do not exist: {unknown}"
        assert not any(k in env for k in ("CRMBOT_DATABASE_URL", "SLACK_BOT_TOKEN")), (
            "secrets as files (NAME_FILE), not values"
        )
        for var, value in env.items():
            if var.endswith("_FILE"):
                secret = str(value).removeprefix("/run/secrets/")
                assert secret in (service.get("secrets") or []), f"{name}: {var} not mounted"
        assert set(service.get("secrets") or []) <= declared
    commented = re.findall(r"^\s*#\s*([A-Z][A-Z0-9_]+):", COMPOSE.read_text(encoding="utf-8"), re.M)
    assert commented, "the optional platform secrets are shown"
    assert not sorted(set(commented) - known)


def test_the_fleet_script_names_only_settings_that_exist() -> None:
    """deploy/fleet.sh sets crmbot's variables by their real names."""
    named = set(re.findall(r"\b(CRMBOT_[A-Z0-9_]+)\b", FLEET.read_text(encoding="utf-8")))
    assert {"CRMBOT_DATABASE_URL", "CRMBOT_HTTP_REUSE_PORT", "CRMBOT_CHROMA_URL"} <= named
    assert not sorted(named - _known())


def test_workers_share_one_pid_namespace_for_their_metric_files() -> None:
    """prometheus-client names its files in the shared folder by pid: in one namespace per
    container every worker is PID 1 and all would write the same files."""
    services = _compose()["services"]
    worker = services["worker"]
    assert "PROMETHEUS_MULTIPROC_DIR" in worker["environment"]
    assert worker["pid"].startswith("service:"), "workers need one PID namespace"
    anchor = worker["pid"].removeprefix("service:")
    assert anchor in services and "pid" not in services[anchor]
    # The migration looks for running workers in the same namespace.
    assert services["migrate"]["pid"] == worker["pid"]


def _clear_metrics(tmp_path: Path, processes: dict[int, list[str]]) -> set[str]:
    """Run the migration's entrypoint against a fake /proc and /metrics; the files left."""
    script = _compose()["services"]["migrate"]["entrypoint"][-1]
    proc, metrics = tmp_path / "proc", tmp_path / "metrics"
    metrics.mkdir(parents=True)
    (metrics / "counter_7.db").write_bytes(b"")
    for pid, argv in processes.items():
        (proc / str(pid)).mkdir(parents=True)
        (proc / str(pid) / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    # Only the clearing part: the ownership and the upgrade need root and a database.
    clearing = script.split("chown")[0].replace("$$", "$")
    clearing = clearing.replace("/proc/", f"{proc}/").replace("/metrics/", f"{metrics}/")
    subprocess.run(["sh", "-c", clearing], check=True, timeout=30)
    return {p.name for p in metrics.iterdir()}


def test_the_migration_clears_metrics_only_when_no_worker_runs(tmp_path: Path) -> None:
    """A second `docker compose up` reruns the migration while workers serve: their files stay."""
    own = ["sh", "-c", _compose()["services"]["migrate"]["entrypoint"][-1]]
    idle = {1: ["sleep", "infinity"], 9: own}
    assert _clear_metrics(tmp_path / "idle", idle) == set()
    serving = {**idle, 7: ["/usr/local/bin/python3", "/usr/local/bin/crmbot", "serve"]}
    assert _clear_metrics(tmp_path / "serving", serving) == {"counter_7.db"}


def test_the_fleet_script_never_stops_a_process_a_stale_pidfile_names(tmp_path: Path) -> None:
    """After a reboot a pidfile may name an unrelated process: stop leaves it and drops the file."""
    run = tmp_path / "run"
    run.mkdir()
    other = subprocess.Popen(["sleep", "60"])
    try:
        for name in ("worker1.pid", "chroma.pid"):
            (run / name).write_text(f"{other.pid}\n")
        env = {**os.environ, "FLEET_DIR": str(tmp_path)}
        shown = subprocess.run(
            [str(FLEET), "status"], env=env, capture_output=True, text=True, timeout=60
        )
        assert "chroma    stopped" in shown.stdout and "by 0 worker(s)" in shown.stdout
        (run / "worker1.pid").write_text(f"{other.pid}\n")
        (run / "chroma.pid").write_text(f"{other.pid}\n")
        subprocess.run([str(FLEET), "stop"], env=env, check=True, timeout=60, capture_output=True)
        assert other.poll() is None, "stop killed a process it did not start"
        assert not list(run.iterdir()), "stale pidfiles are removed"
    finally:
        other.kill()
        other.wait()
