// Package deploy holds the Kubernetes manifests, the Helm chart values and the
// OpenTelemetry Operator resource that run otelcol-zitadel. No cluster runs
// here: the tests decode every manifest strictly into the Kubernetes API types,
// check that the pieces refer to each other, and validate each collector
// configuration with the built collector.
package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// drainSeconds is how long a stopping collector gives reports and pages in
// flight; the grace period must leave room beyond it.
const drainSeconds = 5

// binaryName is where the image puts the collector: /otelcol-zitadel.
const binaryName = "otelcol-zitadel"

// decodeStrict decodes one YAML document into v, refusing unknown and
// duplicate fields, as the API server's strict field validation does.
func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// kubernetesManifests are the objects of deploy/kubernetes, each decoded into
// its API type.
type kubernetesManifests struct {
	deployment *appsv1.Deployment
	service    *corev1.Service
	configMap  *corev1.ConfigMap
	secret     *corev1.Secret
	pdb        *policyv1.PodDisruptionBudget
}

func loadKubernetesManifests(t *testing.T) kubernetesManifests {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m kubernetesManifests
	for _, f := range files {
		var meta metav1.TypeMeta
		decodeTypeMeta(t, f, &meta)
		var obj any
		switch meta.APIVersion + " " + meta.Kind {
		case "apps/v1 Deployment":
			m.deployment = &appsv1.Deployment{}
			obj = m.deployment
		case "v1 Service":
			m.service = &corev1.Service{}
			obj = m.service
		case "v1 ConfigMap":
			m.configMap = &corev1.ConfigMap{}
			obj = m.configMap
		case "v1 Secret":
			m.secret = &corev1.Secret{}
			obj = m.secret
		case "policy/v1 PodDisruptionBudget":
			m.pdb = &policyv1.PodDisruptionBudget{}
			obj = m.pdb
		default:
			t.Fatalf("%s: unexpected %s %s", f, meta.APIVersion, meta.Kind)
		}
		decodeStrict(t, f, obj)
	}
	if m.deployment == nil || m.service == nil || m.configMap == nil || m.secret == nil || m.pdb == nil {
		t.Fatalf("deploy/kubernetes lacks one of Deployment, Service, ConfigMap, Secret, PodDisruptionBudget: %v", files)
	}
	return m
}

func decodeTypeMeta(t *testing.T, path string, meta *metav1.TypeMeta) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "\n---") {
		t.Fatalf("%s: one object per file", path)
	}
	if err := yaml.Unmarshal(data, meta); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestKubernetesManifestsFitTogether(t *testing.T) {
	m := loadKubernetesManifests(t)
	d, pod := m.deployment, m.deployment.Spec.Template.Spec

	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("Deployment: replicas %v, want 2 sharing the report key", d.Spec.Replicas)
	}
	labels := d.Spec.Template.Labels
	for name, sel := range map[string]map[string]string{
		"Deployment selector":          d.Spec.Selector.MatchLabels,
		"Service selector":             m.service.Spec.Selector,
		"PodDisruptionBudget selector": m.pdb.Spec.Selector.MatchLabels,
	} {
		if len(sel) == 0 || !selects(sel, labels) {
			t.Errorf("%s %v does not select the pods (%v)", name, sel, labels)
		}
	}
	if m.pdb.Spec.MinAvailable == nil || m.pdb.Spec.MinAvailable.IntValue() < 1 || m.pdb.Spec.MinAvailable.IntValue() >= int(*d.Spec.Replicas) {
		t.Errorf("PodDisruptionBudget: minAvailable %v, want at least one and fewer than the replicas", m.pdb.Spec.MinAvailable)
	}
	if g := pod.TerminationGracePeriodSeconds; g == nil || *g <= drainSeconds {
		t.Errorf("terminationGracePeriodSeconds %v, want more than the %d s drain", g, drainSeconds)
	}

	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want the collector alone", len(pod.Containers))
	}
	c := pod.Containers[0]
	checkImageTag(t, "Deployment", c.Image)
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef == nil || c.EnvFrom[0].SecretRef.Name != m.secret.Name {
		t.Errorf("container envFrom %+v, want the Secret %q", c.EnvFrom, m.secret.Name)
	}
	configPath := ""
	for _, v := range pod.Volumes {
		if v.ConfigMap != nil && v.ConfigMap.Name == m.configMap.Name {
			for _, mnt := range c.VolumeMounts {
				if mnt.Name == v.Name {
					configPath = mnt.MountPath + "/config.yaml"
				}
			}
		}
	}
	if configPath == "" || !slicesContain(c.Args, "--config="+configPath) {
		t.Errorf("args %v do not name the ConfigMap's config.yaml mounted at %q", c.Args, configPath)
	}
	config, ok := m.configMap.Data["config.yaml"]
	if !ok {
		t.Fatal("ConfigMap has no config.yaml")
	}
	ports := listenPorts(t, config)

	containerPorts := map[string]int32{}
	for _, p := range c.Ports {
		containerPorts[p.Name] = p.ContainerPort
	}
	for name, want := range map[string]int{"health": ports.health, "telemetry": ports.telemetry, "prometheus": ports.prometheus} {
		if got := containerPorts[name]; int(got) != want {
			t.Errorf("container port %q is %d, the configuration listens on %d", name, got, want)
		}
	}
	for _, p := range m.service.Spec.Ports {
		if _, ok := containerPorts[p.TargetPort.String()]; p.TargetPort.Type != intstr.String || !ok {
			t.Errorf("Service port %q targets %q, not a named container port", p.Name, p.TargetPort.String())
		}
	}
	for name, probe := range map[string]*corev1.Probe{"readinessProbe": c.ReadinessProbe, "livenessProbe": c.LivenessProbe} {
		if probe == nil || probe.HTTPGet == nil || containerPorts[probe.HTTPGet.Port.String()] != int32(ports.health) {
			t.Errorf("%s %+v does not ask health_check on %d", name, probe, ports.health)
		}
	}
	checkResources(t, "Deployment", c.Resources)

	env := secretEnv(m.secret)
	validateConfig(t, config, env)
}

func TestHelmValues(t *testing.T) {
	var v helmValues
	decodeStrict(t, "helm/values.yaml", &v)
	m := loadKubernetesManifests(t)
	if v.Mode != "deployment" || v.ReplicaCount != 2 {
		t.Errorf("mode %q with %d replicas, want a deployment of 2", v.Mode, v.ReplicaCount)
	}
	checkImageTag(t, "Helm values", v.Image.Repository+":"+v.Image.Tag)
	if v.Command.Name != binaryName {
		t.Errorf("command.name %q: the chart runs /<name>, and the image has /%s", v.Command.Name, binaryName)
	}
	if len(v.ExtraEnvsFrom) != 1 || v.ExtraEnvsFrom[0].SecretRef == nil || v.ExtraEnvsFrom[0].SecretRef.Name != m.secret.Name {
		t.Errorf("extraEnvsFrom %+v, want the Secret %q", v.ExtraEnvsFrom, m.secret.Name)
	}
	if !v.PodDisruptionBudget.Enabled {
		t.Error("podDisruptionBudget is off")
	}
	checkResources(t, "Helm values", v.Resources)

	// The chart merges config into its defaults; null removes a default.
	config, err := yaml.Marshal(withoutNulls(v.Config))
	if err != nil {
		t.Fatal(err)
	}
	env := append(secretEnv(m.secret), "MY_POD_IP=127.0.0.1")
	ports := listenPorts(t, expandEnv(string(config), env))
	for name, want := range map[string]int{"telemetry": ports.telemetry, "prometheus": ports.prometheus} {
		if p := v.Ports[name]; !p.Enabled || p.ContainerPort != want || p.ServicePort != want {
			t.Errorf("ports.%s %+v, the configuration listens on %d", name, p, want)
		}
	}
	for _, name := range []string{"otlp", "otlp-http", "jaeger-compact", "jaeger-thrift", "jaeger-grpc", "zipkin"} {
		if v.Ports[name].Enabled {
			t.Errorf("ports.%s is on, but nothing listens there", name)
		}
	}
	validateConfig(t, string(config), env)
}

func TestOperatorResource(t *testing.T) {
	var o operatorCollector
	decodeStrict(t, "operator/opentelemetrycollector.yaml", &o)
	m := loadKubernetesManifests(t)
	if o.APIVersion != "opentelemetry.io/v1beta1" || o.Kind != "OpenTelemetryCollector" {
		t.Errorf("%s %s, want opentelemetry.io/v1beta1 OpenTelemetryCollector", o.APIVersion, o.Kind)
	}
	s := o.Spec
	if s.Mode != "deployment" || s.Replicas == nil || *s.Replicas != 2 {
		t.Errorf("mode %q with %v replicas, want a deployment of 2", s.Mode, s.Replicas)
	}
	checkImageTag(t, "OpenTelemetryCollector", s.Image)
	if len(s.EnvFrom) != 1 || s.EnvFrom[0].SecretRef == nil || s.EnvFrom[0].SecretRef.Name != m.secret.Name {
		t.Errorf("envFrom %+v, want the Secret %q", s.EnvFrom, m.secret.Name)
	}
	if g := s.TerminationGracePeriodSeconds; g == nil || *g <= drainSeconds {
		t.Errorf("terminationGracePeriodSeconds %v, want more than the %d s drain", g, drainSeconds)
	}
	if s.PodDisruptionBudget == nil || s.PodDisruptionBudget.MinAvailable == nil {
		t.Error("no podDisruptionBudget.minAvailable")
	}
	checkResources(t, "OpenTelemetryCollector", s.Resources)

	config, err := yaml.Marshal(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	ports := listenPorts(t, string(config))
	declared := map[string]int{}
	for _, p := range s.Ports {
		declared[p.Name] = int(p.Port)
	}
	for name, want := range map[string]int{"telemetry": ports.telemetry, "prometheus": ports.prometheus} {
		if declared[name] != want {
			t.Errorf("ports %q is %d, the configuration listens on %d", name, declared[name], want)
		}
	}
	validateConfig(t, string(config), secretEnv(m.secret))
}

// helmValues are the values of the official chart this repository sets.
type helmValues struct {
	Mode         string `json:"mode"`
	ReplicaCount int    `json:"replicaCount"`
	Image        struct {
		Repository string `json:"repository"`
		Tag        string `json:"tag"`
		PullPolicy string `json:"pullPolicy"`
	} `json:"image"`
	Command struct {
		Name string `json:"name"`
	} `json:"command"`
	ExtraEnvsFrom       []corev1.EnvFromSource      `json:"extraEnvsFrom"`
	Config              map[string]any              `json:"config"`
	Ports               map[string]helmPort         `json:"ports"`
	Resources           corev1.ResourceRequirements `json:"resources"`
	PodDisruptionBudget struct {
		Enabled      bool                `json:"enabled"`
		MinAvailable *intstr.IntOrString `json:"minAvailable"`
	} `json:"podDisruptionBudget"`
}

type helmPort struct {
	Enabled       bool   `json:"enabled"`
	ContainerPort int    `json:"containerPort,omitempty"`
	ServicePort   int    `json:"servicePort,omitempty"`
	Protocol      string `json:"protocol,omitempty"`
}

// operatorCollector is the part of the Operator's v1beta1 OpenTelemetryCollector
// this repository sets.
type operatorCollector struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		Mode                          string                 `json:"mode"`
		Replicas                      *int32                 `json:"replicas"`
		Image                         string                 `json:"image"`
		EnvFrom                       []corev1.EnvFromSource `json:"envFrom"`
		Ports                         []corev1.ServicePort   `json:"ports"`
		TerminationGracePeriodSeconds *int64                 `json:"terminationGracePeriodSeconds"`
		PodDisruptionBudget           *struct {
			MinAvailable *intstr.IntOrString `json:"minAvailable"`
		} `json:"podDisruptionBudget"`
		Resources corev1.ResourceRequirements `json:"resources"`
		Config    map[string]any              `json:"config"`
	} `json:"spec"`
}

func selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func slicesContain(s []string, v string) bool {
	for _, e := range s {
		if e == v {
			return true
		}
	}
	return false
}

// checkImageTag holds an image reference to the distribution's version in
// builder-config.yaml, so that a release does not leave the manifests behind.
func checkImageTag(t *testing.T, where, image string) {
	t.Helper()
	data, err := os.ReadFile("../builder-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		Dist struct {
			Version string `json:"version"`
		} `json:"dist"`
	}
	if err := yaml.Unmarshal(data, &manifest); err != nil {
		t.Fatal(err)
	}
	if want := binaryName + ":" + manifest.Dist.Version; !strings.HasSuffix(image, "/"+want) && image != want {
		t.Errorf("%s: image %q, want %q (the version in builder-config.yaml)", where, image, want)
	}
}

func checkResources(t *testing.T, where string, r corev1.ResourceRequirements) {
	t.Helper()
	req, lim := r.Requests.Memory(), r.Limits.Memory()
	if req.IsZero() || lim.IsZero() || req.Cmp(*lim) > 0 {
		t.Errorf("%s: memory request %s and limit %s, want both, the request not above the limit", where, req, lim)
	}
}

// listenPorts are the ports a collector configuration listens on.
type collectorPorts struct{ health, telemetry, prometheus int }

func listenPorts(t *testing.T, config string) collectorPorts {
	t.Helper()
	var c struct {
		Extensions struct {
			HealthCheck struct {
				Endpoint string `json:"endpoint"`
			} `json:"health_check"`
		} `json:"extensions"`
		Receivers struct {
			Telemetry struct {
				HTTP struct {
					Endpoint string `json:"endpoint"`
				} `json:"http"`
			} `json:"zitadeltelemetry"`
		} `json:"receivers"`
		Exporters struct {
			Prometheus struct {
				Endpoint string `json:"endpoint"`
			} `json:"prometheus"`
		} `json:"exporters"`
	}
	if err := yaml.Unmarshal([]byte(config), &c); err != nil {
		t.Fatal(err)
	}
	return collectorPorts{
		health:     port(t, c.Extensions.HealthCheck.Endpoint),
		telemetry:  port(t, c.Receivers.Telemetry.HTTP.Endpoint),
		prometheus: port(t, c.Exporters.Prometheus.Endpoint),
	}
}

func port(t *testing.T, endpoint string) int {
	t.Helper()
	i := strings.LastIndexByte(endpoint, ':')
	p, err := strconv.Atoi(endpoint[i+1:])
	if i < 0 || err != nil {
		t.Fatalf("endpoint %q has no port", endpoint)
	}
	return p
}

func secretEnv(s *corev1.Secret) []string {
	var env []string
	for k, v := range s.StringData {
		env = append(env, k+"="+v)
	}
	return env
}

var envRef = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${env:NAME} as the collector does, for reading ports.
func expandEnv(config string, env []string) string {
	return envRef.ReplaceAllStringFunc(config, func(ref string) string {
		name := envRef.FindStringSubmatch(ref)[1]
		for _, kv := range env {
			if k, v, _ := strings.Cut(kv, "="); k == name {
				return v
			}
		}
		return ref
	})
}

// withoutNulls drops the keys whose value is null, as Helm does when it
// merges values into a chart's defaults.
func withoutNulls(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case nil:
		case map[string]any:
			out[k] = withoutNulls(v)
		default:
			out[k] = v
		}
	}
	return out
}
