"""deploy/kubernetes/: every manifest strictly valid for a current Kubernetes (schemas shipped in
kubernetes-validate, so offline), listed in the kustomization, locked down, wired together by
names and labels that match, and probing paths a real server answers."""

from __future__ import annotations

import copy
import urllib.request
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from packaging.version import Version

from rapidvet.app.settings import SettingsError, load_settings
from tests.support.deploy_helpers import (
    DEPLOY,
    PLACEHOLDER,
    bare_service,
    rapidvet_args,
    setting_names,
    yaml_documents,
    yaml_file,
)

FOLDER = DEPLOY / "kubernetes"
KUSTOMIZATION = FOLDER / "kustomization.yaml"
# The kustomization fields these manifests may use (kustomize's Kustomization type).
KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "resources", "labels", "images", "namespace"}
OLDEST_CURRENT = Version("1.33")


def manifest_files() -> list[Path]:
    return sorted(p for p in FOLDER.iterdir() if p != KUSTOMIZATION)


def resources() -> list[dict[str, Any]]:
    return [doc for path in manifest_files() for doc in yaml_documents(path)]


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [r for r in resources() if r["kind"] == kind]


def named(kind: str, name: str) -> dict[str, Any]:
    (found,) = [r for r in by_kind(kind) if r["metadata"]["name"] == name]
    return found


def kubernetes_version() -> str:
    latest = kubernetes_validate.latest_version()
    assert Version(latest) >= OLDEST_CURRENT, f"kubernetes-validate only knows {latest}"
    return latest


def pod_templates() -> dict[str, dict[str, Any]]:
    return {
        r["metadata"]["name"]: r["spec"]["template"]
        for r in resources()
        if r["kind"] in {"Deployment", "Job"}
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with bare_service(tmp_path_factory.mktemp("kubernetes")) as running:
        yield running


def test_kustomization_lists_every_file_in_the_folder():
    kustomization = yaml_file(KUSTOMIZATION)
    assert kustomization["apiVersion"] == "kustomize.config.k8s.io/v1beta1"
    assert kustomization["kind"] == "Kustomization"
    assert set(kustomization) <= KUSTOMIZATION_FIELDS
    listed = kustomization["resources"]
    assert len(listed) == len(set(listed))
    assert sorted(listed) == [p.name for p in manifest_files()]
    images = {image["name"] for image in kustomization.get("images", [])}
    used = {
        c["image"].split(":")[0] for t in pod_templates().values() for c in t["spec"]["containers"]
    }
    assert images <= used


@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: p.name)
def test_manifest_is_strictly_valid_for_current_kubernetes(path: Path):
    docs = yaml_documents(path)
    assert docs, f"{path.name} holds no resource"
    version = kubernetes_version()
    for doc in docs:
        # Raises on a missing schema, a wrong type or (strict) a field Kubernetes does not know.
        kubernetes_validate.validate(doc, version, strict=True)


def test_strict_validation_refuses_an_unknown_field():
    broken = copy.deepcopy(named("Deployment", "rapidvet-web"))
    broken["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError, match="replica"):
        kubernetes_validate.validate(broken, kubernetes_version(), strict=True)


def test_the_pieces_are_all_there():
    kinds = sorted(r["kind"] for r in resources())
    expected = ["ConfigMap", "Deployment", "Deployment", "Ingress", "Job", "PodDisruptionBudget"]
    assert kinds == sorted([*expected, "Secret", "Service"])


@pytest.mark.parametrize("name", sorted(pod_templates()))
def test_every_pod_runs_non_root_read_only_and_bounded(name: str):
    pod = pod_templates()[name]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    volumes = {v["name"]: v for v in pod["volumes"]}
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["readOnlyRootFilesystem"] is True
        assert context["capabilities"] == {"drop": ["ALL"]}
        for bound in ("requests", "limits"):
            assert set(container["resources"][bound]) == {"cpu", "memory"}, bound
        (tmp,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
        assert "emptyDir" in volumes[tmp["name"]]
        assert container["image"] == "rapidvet:latest"
        rapidvet_args(container["args"])
        sources = {(next(iter(s)), next(iter(s.values()))["name"]) for s in container["envFrom"]}
        assert sources == {("configMapRef", "rapidvet"), ("secretRef", "rapidvet")}
    named("ConfigMap", "rapidvet")
    named("Secret", "rapidvet")


def test_web_runs_two_replicas_probed_on_readyz_and_healthz():
    web = named("Deployment", "rapidvet-web")
    assert web["spec"]["replicas"] == 2
    (container,) = web["spec"]["template"]["spec"]["containers"]
    args = rapidvet_args(container["args"])
    assert (args.command, args.no_worker, args.host) == ("serve", True, "0.0.0.0")
    (port,) = container["ports"]
    assert port["containerPort"] == args.port
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port["name"]}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}


def test_probe_paths_answer_on_a_running_server(server):
    (container,) = named("Deployment", "rapidvet-web")["spec"]["template"]["spec"]["containers"]
    for probe in ("readinessProbe", "livenessProbe"):
        path = container[probe]["httpGet"]["path"]
        with urllib.request.urlopen(server.url + path, timeout=10) as response:
            assert response.status == 200, path


def test_worker_and_migration_run_the_right_commands():
    (worker,) = named("Deployment", "rapidvet-worker")["spec"]["template"]["spec"]["containers"]
    args = rapidvet_args(worker["args"])
    assert (args.command, args.host) == ("worker", "0.0.0.0")
    (port,) = worker["ports"]
    assert port["containerPort"] == args.port  # health and metrics only
    assert worker["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port["name"]}
    assert worker["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}
    job = named("Job", "rapidvet-migrate")["spec"]
    (migrate,) = job["template"]["spec"]["containers"]
    args = rapidvet_args(migrate["args"])
    assert (args.command, args.db_command) == ("db", "migrate")
    assert job["template"]["spec"]["restartPolicy"] in {"OnFailure", "Never"}


def test_service_ingress_and_budget_reach_the_web_pods():
    web = named("Deployment", "rapidvet-web")
    pod_labels = web["spec"]["template"]["metadata"]["labels"]
    port_names = {
        p["name"] for c in web["spec"]["template"]["spec"]["containers"] for p in c["ports"]
    }
    service = named("Service", "rapidvet-web")
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names
    service_ports = {p["name"] for p in service["spec"]["ports"]}
    paths = {}
    for rule in named("Ingress", "rapidvet")["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] == "rapidvet-web"
            assert backend["port"]["name"] in service_ports
            paths[path["path"]] = path["pathType"]
    assert paths == {"/webhooks": "Exact", "/": "Prefix"}
    budget = named("PodDisruptionBudget", "rapidvet-web")["spec"]
    assert budget["selector"]["matchLabels"].items() <= pod_labels.items()
    assert 0 < budget["minAvailable"] < web["spec"]["replicas"]


def test_secret_template_holds_placeholders_only():
    secret = named("Secret", "rapidvet")
    assert "data" not in secret  # base64 would hide what is in it
    values = secret["stringData"]
    assert set(values) <= setting_names()
    assert all(value in ("", PLACEHOLDER) for value in values.values()), values
    # Applied as it is, the template stops rapidvet with the variable named.
    with pytest.raises(SettingsError, match="RAPIDVET_DATABASE_URL"):
        load_settings(env=values, env_file=None)


def test_config_map_holds_settings_rapidvet_reads():
    data = named("ConfigMap", "rapidvet")["data"]
    assert set(data) <= setting_names()
    assert not set(data) & set(named("Secret", "rapidvet")["stringData"])
    load_settings(env=data, env_file=None)
