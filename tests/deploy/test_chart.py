"""The Helm chart: lint, render, validate against Kubernetes 1.33 schemas, and what it deploys.

Each test renders the real chart with the real helm binary (`make tools`) and checks
what a platform engineer would see in the cluster.
"""

from __future__ import annotations

import base64
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.engine import loader
from tests.deploy.tools import (
    CHART, KUBERNETES_VALIDATE, KUBERNETES_VERSION, NAMESPACE, PRODUCTION_VALUES, ROOT, container, env_of,
    helm, kinds, one, render, render_text, run, tool,
)

RULES = ROOT / "rules"
CRD_API_GROUPS = ("monitoring.coreos.com/",)

Docs = list[dict[str, Any]]


@pytest.fixture(scope="module")
def default() -> Docs:
    return render()


@pytest.fixture(scope="module")
def production() -> Docs:
    return render("-f", str(PRODUCTION_VALUES))


def pod_spec(docs: Docs) -> dict[str, Any]:
    return one(docs, "Deployment")["spec"]["template"]["spec"]


def pod_template(docs: Docs) -> dict[str, Any]:
    return one(docs, "Deployment")["spec"]["template"]


def configmap(docs: Docs, suffix: str) -> dict[str, Any]:
    found = [doc for doc in docs if doc["kind"] == "ConfigMap" and doc["metadata"]["name"].endswith(suffix)]
    assert len(found) == 1, f"expected one ConfigMap named *{suffix}"
    return found[0]


def mounted(docs: Docs, volume_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(volume, mount) of the main container."""
    volumes = {volume["name"]: volume for volume in pod_spec(docs)["volumes"]}
    mounts = {mount["name"]: mount for mount in container(docs)["volumeMounts"]}
    return volumes[volume_name], mounts[volume_name]


# --- lint and offline schema validation ------------------------------------------------

@pytest.mark.parametrize("values", [[], ["-f", str(PRODUCTION_VALUES)]], ids=["default", "production"])
def test_helm_lint_strict_passes(values: list[str]) -> None:
    result = helm("lint", "--strict", str(CHART), *values)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout
    assert "[WARNING]" not in result.stdout and "[ERROR]" not in result.stdout


def validate(manifests: str) -> list[str]:
    """kubernetes-validate --strict output lines; a WARN (unknown kind, deprecated API) fails."""
    result = run([tool(KUBERNETES_VALIDATE), "--strict", "-k", KUBERNETES_VERSION, "-"], stdin=manifests)
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    problems = [line for line in lines if not line.startswith("INFO")]
    assert result.returncode == 0 and not problems, "\n".join(lines)
    return lines


@pytest.mark.parametrize("values", [[], ["-f", str(PRODUCTION_VALUES)]], ids=["default", "production"])
def test_rendered_manifests_validate_against_kubernetes_schemas(values: list[str]) -> None:
    docs = render(*values)
    # ServiceMonitor is a prometheus-operator CRD the validator has no schema for;
    # test_service_monitor_scrapes_the_metrics_port checks it instead.
    core = [doc for doc in docs if not doc["apiVersion"].startswith(CRD_API_GROUPS)]
    lines = validate(yaml.safe_dump_all(core))
    passed = [line for line in lines if " passed for resource " in line]
    assert len(passed) == len(core), "\n".join(lines)


def test_the_validator_rejects_an_unknown_field() -> None:
    """Guards the check above: strict validation must catch a typo in a manifest."""
    docs = render()
    deployment = one(docs, "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {"httpGet": {"path": "/livez"}}
    result = run([tool(KUBERNETES_VALIDATE), "--strict", "-k", KUBERNETES_VERSION, "-"],
                 stdin=yaml.safe_dump(deployment))
    assert result.returncode != 0
    assert "livenesProbe" in result.stdout + result.stderr


# --- what the default install deploys --------------------------------------------------

def test_default_install_renders_the_expected_objects(default: Docs) -> None:
    assert kinds(default) == ["ConfigMap", "ConfigMap", "Deployment", "HorizontalPodAutoscaler", "NetworkPolicy",
                              "PodDisruptionBudget", "Service", "ServiceAccount"]
    assert all(doc["metadata"]["namespace"] == NAMESPACE for doc in default)


def test_every_object_carries_the_standard_labels(default: Docs, production: Docs) -> None:
    for doc in default + production:
        labels = doc["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "service-recovery", doc["kind"]
        assert labels["app.kubernetes.io/instance"] == "recovery"
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/version"] == "0.1.0"
        assert labels["app.kubernetes.io/part-of"] == "service-recovery"


def test_probes_use_livez_and_readyz_on_the_http_port(default: Docs) -> None:
    main = container(default)
    assert main["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "http"}
    assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert main["startupProbe"]["httpGet"] == {"path": "/livez", "port": "http"}
    assert main["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert env_of(default)["RECOVERY_PORT"] == "8080"
    assert env_of(default)["RECOVERY_HOST"] == "0.0.0.0"


def test_pods_run_locked_down(default: Docs, production: Docs) -> None:
    for docs in (default, production):
        spec = pod_spec(docs)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        context = container(docs)["securityContext"]
        assert context["runAsNonRoot"] is True
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["privileged"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}
        assert context["runAsUser"] >= 10000


def test_no_service_account_token_is_mounted(default: Docs) -> None:
    assert pod_spec(default)["automountServiceAccountToken"] is False
    account = one(default, "ServiceAccount")
    assert account["automountServiceAccountToken"] is False
    assert pod_spec(default)["serviceAccountName"] == account["metadata"]["name"]


def test_tmp_is_a_size_limited_emptydir(default: Docs) -> None:
    volume, mount = mounted(default, "tmp")
    assert volume["emptyDir"] == {"sizeLimit": "64Mi"}
    assert mount["mountPath"] == "/tmp"


@pytest.mark.parametrize(("volume", "suffix", "variable", "path"), [
    ("rules", "-rules", "RECOVERY_RULES_DIR", "/etc/recovery/rules"),
    ("webhook-mappings", "-webhook-mappings", "RECOVERY_WEBHOOK_MAPPINGS_DIR", "/etc/recovery/webhooks"),
])
def test_configmaps_are_mounted_as_directories_where_the_service_reads(
        default: Docs, volume: str, suffix: str, variable: str, path: str) -> None:
    source, mount = mounted(default, volume)
    assert source["configMap"]["name"] == configmap(default, suffix)["metadata"]["name"]
    assert "items" not in source["configMap"], "items would hide files added later"
    # A subPath mount never sees ConfigMap updates: live reload needs the whole directory.
    assert "subPath" not in mount
    assert mount["readOnly"] is True
    assert mount["mountPath"] == env_of(default)[variable] == path


def test_rules_configmap_holds_the_shipped_rules_byte_for_byte(default: Docs) -> None:
    data = configmap(default, "-rules")["data"]
    shipped = {path.name: path.read_bytes() for path in loader.rules_files(RULES)}
    assert {name: text.encode() for name, text in data.items()} == shipped
    # so pods serve the same ruleset revision (digest) as `make run` does
    assert loader.load_sources({name: text.encode() for name, text in data.items()}).digest == \
        loader.load_dir(RULES).digest


def test_webhook_mappings_configmap_holds_every_shipped_mapping(default: Docs) -> None:
    data = configmap(default, "-webhook-mappings")["data"]
    shipped = {path.name: path.read_bytes() for path in (RULES / "webhooks").glob("*.yaml")}
    assert shipped, "rules/webhooks/ holds the shipped mappings"
    assert {name: text.encode() for name, text in data.items()} == shipped


def test_a_rules_change_updates_the_configmap_without_rolling_pods(tmp_path: Path) -> None:
    chart = tmp_path / "service-recovery"
    shutil.copytree(CHART, chart, symlinks=False)
    before = render(chart=chart)
    ruleset = chart / "rules" / "ruleset.yaml"
    ruleset.write_text(ruleset.read_text() + "\n# tuned by CX ops\n")
    mapping = chart / "rules" / "webhooks" / "zendesk.yaml"
    mapping.write_text(mapping.read_text() + "\n# tuned by CX ops\n")
    after = render(chart=chart)
    assert configmap(before, "-rules")["data"] != configmap(after, "-rules")["data"]
    assert configmap(before, "-webhook-mappings")["data"] != configmap(after, "-webhook-mappings")["data"]
    assert pod_template(before) == pod_template(after), "a rules change must not restart pods"


def test_existing_configmaps_replace_the_shipped_ones() -> None:
    docs = render("--set", "rules.existingConfigMap=cx-rules", "--set", "webhookMappings.existingConfigMap=cx-maps")
    assert "ConfigMap" not in kinds(docs)
    assert mounted(docs, "rules")[0]["configMap"]["name"] == "cx-rules"
    assert mounted(docs, "webhook-mappings")[0]["configMap"]["name"] == "cx-maps"


def test_graceful_shutdown_outlasts_the_servers_30_second_drain(default: Docs) -> None:
    spec = pod_spec(default)
    pre_stop = container(default)["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    assert spec["terminationGracePeriodSeconds"] > 30 + int(pre_stop[1])


def test_a_grace_period_too_short_for_the_drain_is_refused() -> None:
    result = helm("template", "x", str(CHART), "--set", "terminationGracePeriodSeconds=34")
    assert result.returncode != 0
    assert "terminationGracePeriodSeconds (34) must exceed" in result.stderr


def test_service_routes_to_the_pods_http_port(default: Docs) -> None:
    service = one(default, "Service")
    labels = pod_template(default)["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    assert service["spec"]["type"] == "ClusterIP"


def test_hpa_is_autoscaling_v2_on_cpu_and_owns_the_replica_count(default: Docs) -> None:
    hpa = one(default, "HorizontalPodAutoscaler")
    deployment = one(default, "Deployment")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": deployment["metadata"]["name"]}
    assert hpa["spec"]["metrics"] == [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    # a fixed replica count would fight the HPA on every upgrade
    assert "replicas" not in deployment["spec"]


def test_without_autoscaling_the_replica_count_is_fixed() -> None:
    docs = render("--set", "autoscaling.enabled=false", "--set", "replicaCount=3")
    assert "HorizontalPodAutoscaler" not in kinds(docs)
    assert one(docs, "Deployment")["spec"]["replicas"] == 3


def test_pdb_covers_the_pods(default: Docs) -> None:
    pdb = one(default, "PodDisruptionBudget")
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_template(default)["metadata"]["labels"].items()


def test_rollouts_never_drop_below_capacity(default: Docs) -> None:
    assert one(default, "Deployment")["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_network_policy_admits_only_the_service_port(default: Docs) -> None:
    policy = one(default, "NetworkPolicy")
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod_template(default)["metadata"]["labels"].items()
    assert policy["spec"]["ingress"] == [{"ports": [{"port": "http", "protocol": "TCP"}]}]


def test_prometheus_scrape_annotations_point_at_metrics(default: Docs) -> None:
    annotations = pod_template(default)["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert annotations["prometheus.io/port"] == str(container(default)["ports"][0]["containerPort"])


def test_resources_are_requested_and_limited(default: Docs) -> None:
    resources = container(default)["resources"]
    assert set(resources["requests"]) == {"cpu", "memory"}
    assert set(resources["limits"]) == {"cpu", "memory"}


def test_image_digest_pins_the_image() -> None:
    digest = "sha256:" + "ab" * 32
    assert container(render())["image"] == "service-recovery:0.1.0"
    assert container(render("--set", f"image.digest={digest}"))["image"] == f"service-recovery@{digest}"


# --- secrets -----------------------------------------------------------------------------

def test_default_install_has_no_secret_and_no_checksum(default: Docs) -> None:
    assert "Secret" not in kinds(default)
    assert "envFrom" not in container(default)
    assert not any(key.startswith("checksum/") for key in pod_template(default)["metadata"]["annotations"])


def test_chart_managed_secret_env_reaches_the_container_and_rolls_pods_on_change() -> None:
    values = ["--set-string", "secretEnv.RECOVERY_API_KEYS=crm:k3y-0123456789abcdef",
              "--set-string", "secretEnv.RECOVERY_WEBHOOK_ZENDESK_SECRET=zendesk-signing-secret-0123"]
    docs = render(*values)
    secret = one(docs, "Secret")
    decoded = {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}
    assert decoded == {"RECOVERY_API_KEYS": "crm:k3y-0123456789abcdef",
                       "RECOVERY_WEBHOOK_ZENDESK_SECRET": "zendesk-signing-secret-0123"}
    assert container(docs)["envFrom"] == [{"secretRef": {"name": secret["metadata"]["name"]}}]
    rotated = render(*values[:-2], "--set-string", "secretEnv.RECOVERY_WEBHOOK_ZENDESK_SECRET=rotated-secret-0123456")
    checksum = pod_template(docs)["metadata"]["annotations"]["checksum/secret-env"]
    assert pod_template(rotated)["metadata"]["annotations"]["checksum/secret-env"] != checksum
    assert pod_template(render(*values))["metadata"]["annotations"]["checksum/secret-env"] == checksum


def test_secret_env_names_are_checked_by_the_values_schema() -> None:
    result = helm("template", "x", str(CHART), "--set", "secretEnv.bad-name=value")
    assert result.returncode != 0
    assert "bad-name" in result.stderr


def test_production_takes_keys_from_an_existing_secret(production: Docs) -> None:
    assert "Secret" not in kinds(production)
    assert container(production)["envFrom"] == [{"secretRef": {"name": "service-recovery-keys"}}]


# --- production values -------------------------------------------------------------------

def test_production_values_scale_out_with_several_workers(production: Docs) -> None:
    assert kinds(production) == ["ConfigMap", "ConfigMap", "Deployment", "HorizontalPodAutoscaler", "Job",
                                 "NetworkPolicy", "PodDisruptionBudget", "Service", "ServiceAccount", "ServiceMonitor"]
    hpa = one(production, "HorizontalPodAutoscaler")
    assert hpa["spec"]["minReplicas"] >= 3
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    assert env_of(production)["RECOVERY_WORKERS"] == "2"
    limits = container(production)["resources"]["limits"]
    assert limits["cpu"] == "2", "one core per worker"
    assert container(production)["image"].startswith("registry.example.internal/cx/service-recovery:")


def test_service_monitor_scrapes_the_metrics_port(production: Docs) -> None:
    monitor = one(production, "ServiceMonitor")
    service = one(production, "Service")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    assert monitor["metadata"]["labels"]["release"] == "prometheus"


# --- the values schema -----------------------------------------------------------------

@pytest.mark.parametrize(("setting", "message"), [
    ("config.workers=0", "/config/workers"),
    ("config.logLevel=verbose", "/config/logLevel"),
    ("confg.workers=2", "additional properties 'confg' not allowed"),
    ("securityContext.allowPrivilegeEscalation=true", "/securityContext/allowPrivilegeEscalation"),
    ("image.digest=latest", "/image/digest"),
])
def test_values_schema_refuses_bad_values(setting: str, message: str) -> None:
    result = helm("template", "x", str(CHART), "--set", setting)
    assert result.returncode != 0
    assert message in result.stderr


def test_rendering_is_deterministic() -> None:
    assert render_text() == render_text()


# --- the ledger --------------------------------------------------------------------------

def test_the_ledger_is_off_by_default_so_no_pod_writes_a_file_of_its_own(default: Docs) -> None:
    assert env_of(default)["RECOVERY_LEDGER_URL"] == "off"
    assert "Job" not in kinds(default)
    assert "ledger-spool" not in {volume["name"] for volume in pod_spec(default)["volumes"]}


def test_production_keeps_the_ledger_in_postgresql_from_a_secret(production: Docs) -> None:
    env = {item["name"]: item for item in container(production)["env"]}
    assert env["RECOVERY_LEDGER_URL"]["valueFrom"] == {"secretKeyRef": {"name": "service-recovery-ledger",
                                                                         "key": "RECOVERY_LEDGER_URL"}}
    assert env["RECOVERY_LEDGER_SPOOL_DIR"]["value"] == "/var/lib/recovery/spool"
    assert env["RECOVERY_LEDGER_ON_FULL"]["value"] == "shed"
    assert env["RECOVERY_LEDGER_IDEMPOTENCY_WINDOW_SECONDS"]["value"] == "86400"
    volume, mount = mounted(production, "ledger-spool")
    assert volume["emptyDir"]["sizeLimit"] == "512Mi"
    assert mount["mountPath"] == "/var/lib/recovery/spool" and not mount.get("readOnly")


def test_a_job_migrates_the_schema_before_each_install_and_upgrade(production: Docs) -> None:
    job = one(production, "Job")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    spec = job["spec"]["template"]["spec"]
    migrate = spec["containers"][0]
    assert migrate["args"] == ["ledger", "migrate"]
    assert migrate["image"] == container(production)["image"]
    env = {item["name"]: item for item in migrate["env"]}
    assert env["RECOVERY_LEDGER_URL"] == {"name": "RECOVERY_LEDGER_URL", "valueFrom": {"secretKeyRef": {
        "name": "service-recovery-ledger", "key": "RECOVERY_LEDGER_URL"}}}
    assert spec["restartPolicy"] == "Never" and spec["automountServiceAccountToken"] is False
    assert migrate["securityContext"]["readOnlyRootFilesystem"] is True
    assert migrate["securityContext"]["runAsNonRoot"] is True
    off = render("-f", str(PRODUCTION_VALUES), "--set", "ledger.migrations.enabled=false")
    assert "Job" not in kinds(off)


def test_the_ledger_needs_the_secret_that_holds_its_url() -> None:
    result = helm("template", "x", str(CHART), "--set", "ledger.enabled=true")
    assert result.returncode != 0
    assert "urlSecret" in result.stderr
    bad = helm("template", "x", str(CHART), "--set", "ledger.enabled=true,ledger.urlSecret.name=db,ledger.onFull=drop")
    assert bad.returncode != 0 and "onFull" in bad.stderr


# --- settings the chart sets (issue 18) ---------------------------------------------------

def test_the_chart_sets_the_rate_limit_and_cors_origins() -> None:
    docs = render("--set", "config.rateLimitPerMinute=600", "--set", "config.authFailuresPerMinute=0",
                  "--set", "config.corsOrigins={https://crm.example.com,https://app.example.com}")
    env = env_of(docs)
    assert env["RECOVERY_RATE_LIMIT_PER_MINUTE"] == "600"
    assert env["RECOVERY_AUTH_FAILURES_PER_MINUTE"] == "0"
    assert env["RECOVERY_CORS_ORIGINS"] == "https://crm.example.com,https://app.example.com"
    refused = helm("template", "x", str(CHART), "--set", "config.corsOrigins={crm.example.com/widget}")
    assert refused.returncode != 0 and "corsOrigins" in refused.stderr


@pytest.mark.parametrize("values", [[], ["-f", str(PRODUCTION_VALUES)], ["--set", "ledger.enabled=true",
                                                                          "--set", "ledger.urlSecret.name=db"]])
def test_every_variable_the_chart_sets_is_a_setting(values: list[str]) -> None:
    # The service refuses to start on a RECOVERY_* variable that names no setting.
    from service.settings import NOT_SETTINGS, variables

    docs = render(*values)
    pods = [doc["spec"]["template"]["spec"] for doc in docs if doc["kind"] in ("Deployment", "Job")]
    names = {item["name"] for spec in pods for box in spec["containers"] for item in box.get("env", [])}
    assert {name for name in names if name.startswith("RECOVERY_")} - set(variables()) - NOT_SETTINGS == set()
    assert "RECOVERY_RATE_LIMIT_PER_MINUTE" in names
