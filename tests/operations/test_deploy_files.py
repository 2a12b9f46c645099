"""The deployment files: Kubernetes manifests that hang together, and a well-formed Dockerfile.

No kubeconform or hadolint can be installed here (no network for their binaries), so these are
structural checks: every manifest parses and names a known apiVersion/kind, references between
objects resolve (labels, ports, ConfigMap, Secret, service account), the container arguments
are accepted by fmgate's own CLI, and the ConfigMap's catalog is a valid catalog. When kubectl
is on the machine, ``kubectl kustomize`` must build the kustomization too.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from fmgate.cli import build_parser
from fmgate.config.loader import parse_catalog

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
KNOWN_KINDS = {
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("v1", "ServiceAccount"),
    ("apps/v1", "Deployment"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("policy/v1", "PodDisruptionBudget"),
}


def manifests() -> dict[str, dict[str, Any]]:
    """Every Kubernetes object in deploy/k8s (kustomization excluded), by kind."""
    objects: dict[str, dict[str, Any]] = {}
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            assert isinstance(document, dict), path.name
            assert (document.get("apiVersion"), document.get("kind")) in KNOWN_KINDS, path.name
            assert document["metadata"]["name"], path.name
            objects[document["kind"]] = document
    return objects


@pytest.fixture(scope="module")
def objects() -> dict[str, dict[str, Any]]:
    return manifests()


@pytest.fixture(scope="module")
def container(objects: dict[str, dict[str, Any]]) -> dict[str, Any]:
    containers = objects["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    result: dict[str, Any] = containers[0]
    return result


def test_kustomization_lists_existing_files() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        assert (K8S / resource).is_file(), resource


def test_deployment_selects_its_pods_and_runs_unprivileged(
    objects: dict[str, dict[str, Any]], container: dict[str, Any]
) -> None:
    deployment = objects["Deployment"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["serviceAccountName"] == objects["ServiceAccount"]["metadata"]["name"]
    assert pod["terminationGracePeriodSeconds"] > 120  # Poe's longest answer
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_probes_hit_healthz_on_a_declared_port(container: dict[str, Any]) -> None:
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    for probe in ("readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] == "/healthz"
        assert get["port"] in ports


def test_container_arguments_are_accepted_by_the_cli(container: dict[str, Any]) -> None:
    args = build_parser().parse_args(container["args"])
    port = {p["name"]: p["containerPort"] for p in container["ports"]}["http"]
    assert args.port == port
    assert args.emulator == "never"  # production never falls back to synthetic replies
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert args.config.parent == Path(mounts["catalog"])
    assert args.ledger.parent == Path(mounts["state"])


def test_catalog_configmap_is_a_valid_catalog_mounted_as_a_directory(
    objects: dict[str, dict[str, Any]], container: dict[str, Any]
) -> None:
    config_map = objects["ConfigMap"]
    catalog = parse_catalog(config_map["data"]["catalog.yaml"], "configmap.yaml")
    assert catalog.bots
    volumes = objects["Deployment"]["spec"]["template"]["spec"]["volumes"]
    catalog_volume = next(v for v in volumes if v["name"] == "catalog")
    assert catalog_volume["configMap"]["name"] == config_map["metadata"]["name"]
    mount = next(m for m in container["volumeMounts"] if m["name"] == "catalog")
    assert "subPath" not in mount  # subPath mounts never see ConfigMap updates (no hot reload)


def test_secrets_come_from_secret_references(
    objects: dict[str, dict[str, Any]], container: dict[str, Any]
) -> None:
    env = {item["name"]: item for item in container["env"]}
    reference = env["POE_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]
    secret = objects["Secret"]
    assert reference["name"] == secret["metadata"]["name"]
    assert reference["key"] in secret["stringData"]
    assert not any(name == "AWS_SECRET_ACCESS_KEY" for name in env)  # IAM role, not keys


def test_service_and_hpa_point_at_the_deployment(
    objects: dict[str, dict[str, Any]], container: dict[str, Any]
) -> None:
    deployment = objects["Deployment"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    service = objects["Service"]
    assert service["spec"]["selector"].items() <= labels.items()
    port_names = {port["name"] for port in container["ports"]}
    assert all(port["targetPort"] in port_names for port in service["spec"]["ports"])
    hpa = objects["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }
    assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"]
    pdb = objects["PodDisruptionBudget"]["spec"]
    assert pdb["selector"]["matchLabels"].items() <= labels.items()


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_builds_the_kustomization() -> None:
    built = subprocess.run(
        ["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=60, check=True
    )
    kinds = [doc["kind"] for doc in yaml.safe_load_all(built.stdout)]
    assert sorted(kinds) == sorted(
        [
            "ServiceAccount",
            "ConfigMap",
            "Deployment",
            "Service",
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
        ]
    )


# --- Dockerfile ----------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined: list[str] = []
    pending = ""
    for line in (DEPLOY / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        pending += stripped.removesuffix("\\").strip() + " "
        if not stripped.endswith("\\"):
            joined.append(pending.strip())
            pending = ""
    assert not pending, "dangling line continuation"
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in joined]


def test_dockerfile_is_multi_stage_non_root_and_health_checked() -> None:
    instructions = dockerfile_instructions()
    stages = [args for name, args in instructions if name == "FROM"]
    assert len(stages) == 2
    assert stages[0].startswith("python:3.11-slim ")
    assert stages[0].endswith(" AS build")
    assert all(":latest" not in stage for stage in stages)
    runtime = instructions[[name for name, _ in instructions].index("FROM", 1) :]
    assert any(name == "COPY" and args.startswith("--from=build ") for name, args in runtime)
    users = [args for name, args in runtime if name == "USER"]
    assert users
    assert users[-1].split(":")[0] not in ("0", "root")
    healthchecks = [args for name, args in instructions if name == "HEALTHCHECK"]
    assert len(healthchecks) == 1
    assert "/healthz" in healthchecks[0]
    assert not any(name == "ADD" for name, _ in instructions)  # COPY only (hadolint DL3020)
    runs = " ".join(args for name, args in instructions if name == "RUN")
    assert "--constraint constraints.txt" in runs
    assert "apt-get" not in runs  # the slim image is enough; no unpinned system packages


def test_dockerfile_command_is_accepted_by_the_cli() -> None:
    instructions = dict(dockerfile_instructions())
    entrypoint = yaml.safe_load(instructions["ENTRYPOINT"])
    command = yaml.safe_load(instructions["CMD"])  # exec form: a JSON array
    assert entrypoint == ["fmgate"]
    args = build_parser().parse_args(command)
    assert args.host == "0.0.0.0"
    assert f"EXPOSE {args.port}" in f"EXPOSE {instructions['EXPOSE']}"
    assert args.emulator == "never"
    assert shlex.join(command)  # plain strings only


def test_dockerignore_keeps_the_context_small() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", "tests", "var"):
        assert entry in ignored
