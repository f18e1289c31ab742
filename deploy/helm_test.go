package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// chartDefaults holds the official chart's defaults that matter here, kept as
// test data read from the chart (testdata/opentelemetry-collector-chart-values.yaml).
const chartDefaults = "testdata/opentelemetry-collector-chart-values.yaml"

// chartName is the chart's name, the default of nameOverride.
const chartName = "opentelemetry-collector"

// helmValues are the values of the official chart deploy/helm sets; a key the
// struct does not know is refused, so a misspelt value does not pass silently.
type helmValues struct {
	Mode             string           `json:"mode"`
	ReplicaCount     int32            `json:"replicaCount"`
	FullnameOverride string           `json:"fullnameOverride"`
	Statefulset      *helmStatefulSet `json:"statefulset"`
	Image            *helmImage       `json:"image"`
	Command          *struct {
		Name string `json:"name"`
	} `json:"command"`
	ServiceAccount *struct {
		AutomountServiceAccountToken bool `json:"automountServiceAccountToken"`
	} `json:"serviceAccount"`
	PodSecurityContext            *corev1.PodSecurityContext        `json:"podSecurityContext"`
	SecurityContext               *corev1.SecurityContext           `json:"securityContext"`
	TerminationGracePeriodSeconds *int64                            `json:"terminationGracePeriodSeconds"`
	TopologySpreadConstraints     []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints"`
	ExtraEnvsFrom                 []corev1.EnvFromSource            `json:"extraEnvsFrom"`
	ExtraEnvs                     []corev1.EnvVar                   `json:"extraEnvs"`
	ExtraVolumes                  []corev1.Volume                   `json:"extraVolumes"`
	ExtraVolumeMounts             []corev1.VolumeMount              `json:"extraVolumeMounts"`
	Config                        map[string]any                    `json:"config"`
	Ports                         map[string]helmPort               `json:"ports"`
	UseGOMEMLIMIT                 *bool                             `json:"useGOMEMLIMIT"`
	Resources                     *corev1.ResourceRequirements      `json:"resources"`
	LivenessProbe                 *helmProbe                        `json:"livenessProbe"`
	ReadinessProbe                *helmProbe                        `json:"readinessProbe"`
	PodDisruptionBudget           *struct {
		Enabled      bool                `json:"enabled"`
		MinAvailable *intstr.IntOrString `json:"minAvailable,omitempty"`
	} `json:"podDisruptionBudget"`
}

type helmStatefulSet struct {
	VolumeClaimTemplates []corev1.PersistentVolumeClaim `json:"volumeClaimTemplates"`
}

type helmImage struct {
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
	PullPolicy string `json:"pullPolicy"`
}

type helmPort struct {
	Enabled       bool   `json:"enabled"`
	ContainerPort int32  `json:"containerPort,omitempty"`
	ServicePort   int32  `json:"servicePort,omitempty"`
	HostPort      int32  `json:"hostPort,omitempty"`
	Protocol      string `json:"protocol,omitempty"`
	AppProtocol   string `json:"appProtocol,omitempty"`
}

type helmProbe struct {
	HTTPGet struct {
		Path string             `json:"path"`
		Port intstr.IntOrString `json:"port"`
	} `json:"httpGet"`
}

func readYAMLMap(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// helmMerge merges values files over a chart's defaults as Helm does
// (chartutil's coalescing): the later file wins; maps merge key by key; lists
// and scalars are replaced whole; a null removes the key it names, and a map
// does not replace a default that is no map, nor a scalar a default map.
func helmMerge(defaults map[string]any, files ...map[string]any) map[string]any {
	merged := deepCopy(defaults)
	for _, f := range files {
		merged = coalesce(deepCopy(f), merged)
	}
	return merged
}

// coalesce merges src under dst: dst's values win.
func coalesce(dst, src map[string]any) map[string]any {
	for key, sv := range src {
		dv, ok := dst[key]
		switch {
		case ok && dv == nil:
			delete(dst, key)
		case !ok:
			dst[key] = sv
		default:
			dm, dIsMap := dv.(map[string]any)
			sm, sIsMap := sv.(map[string]any)
			if dIsMap && sIsMap {
				coalesce(dm, sm)
			}
			// A table over a scalar, or a scalar over a table, keeps dst's
			// value; Helm warns and does the same.
		}
	}
	// A null in the values with no default under it stays a null; Helm hands
	// it on, and so does this.
	return dst
}

func deepCopy(m map[string]any) map[string]any {
	data, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		panic(err)
	}
	return out
}

// deadNulls lists the nulls of a values file that remove nothing from the
// defaults: such a line does nothing, or its key is misspelt.
func deadNulls(values, defaults map[string]any, prefix string) []string {
	var dead []string
	for k, v := range values {
		d, ok := defaults[k]
		switch v := v.(type) {
		case nil:
			if !ok || d == nil {
				dead = append(dead, prefix+k)
			}
		case map[string]any:
			if dm, isMap := d.(map[string]any); isMap {
				dead = append(dead, deadNulls(v, dm, prefix+k+"::")...)
			}
		}
	}
	sort.Strings(dead)
	return dead
}

// helmRelease renders what the chart installs for the values files, with
// release as the release name: the pod of templates/_pod.tpl in the workload
// of templates/deployment.yaml or statefulset.yaml, the configuration of
// templates/configmap*.yaml, and the Service of templates/service.yaml. Only
// what these values use is rendered; a preset or another mode is refused.
func helmRelease(t *testing.T, release string, files ...string) collectorPod {
	t.Helper()
	defaults := readYAMLMap(t, chartDefaults)
	var layers []map[string]any
	for _, f := range files {
		var strict helmValues
		decodeStrict(t, f, &strict)
		m := readYAMLMap(t, f)
		for k := range m {
			if _, ok := defaults[k]; !ok {
				t.Errorf("%s: %q is not among the chart's values (%s)", f, k, chartDefaults)
			}
		}
		if dead := deadNulls(m, defaults, ""); len(dead) > 0 {
			t.Errorf("%s: these nulls remove nothing from the chart's defaults: %v", f, dead)
		}
		layers = append(layers, m)
	}
	merged := helmMerge(defaults, layers...)
	data, err := json.Marshal(merged)
	if err != nil {
		t.Fatal(err)
	}
	var v helmValues
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	where := fmt.Sprintf("helm %v", files)

	p := collectorPod{path: where, replicas: &v.ReplicaCount}
	component := map[string]string{"deployment": "standalone-collector", "statefulset": "statefulset-collector"}[v.Mode]
	if component == "" {
		t.Fatalf("%s: mode %q; the rendering here knows deployment and statefulset", where, v.Mode)
	}
	p.kind = map[string]string{"deployment": "Deployment", "statefulset": "StatefulSet"}[v.Mode]
	p.labels = map[string]string{"app.kubernetes.io/name": chartName, "app.kubernetes.io/instance": release, "component": component}
	p.selector = p.labels
	fullname := v.FullnameOverride
	if fullname == "" {
		fullname = release + "-" + chartName
	}
	if v.Statefulset != nil {
		if v.Mode == "statefulset" {
			p.claims = v.Statefulset.VolumeClaimTemplates
		} else if len(v.Statefulset.VolumeClaimTemplates) > 0 {
			t.Errorf("%s: statefulset.volumeClaimTemplates are rendered in mode statefulset only", where)
		}
	}

	// templates/configmap.yaml, or configmap-statefulset.yaml with its suffix
	configMapName := fullname
	if v.Mode == "statefulset" {
		configMapName += "-statefulset"
	}
	// templates/_pod.tpl
	c := corev1.Container{
		Name:            chartName,
		Args:            []string{"--config=/conf/relay.yaml"},
		Image:           v.Image.Repository + ":" + v.Image.Tag,
		ImagePullPolicy: corev1.PullPolicy(v.Image.PullPolicy),
		SecurityContext: v.SecurityContext,
		EnvFrom:         v.ExtraEnvsFrom,
		VolumeMounts:    append([]corev1.VolumeMount{{Name: chartName + "-configmap", MountPath: "/conf"}}, v.ExtraVolumeMounts...),
	}
	if v.Command != nil && v.Command.Name != "" {
		c.Command = []string{"/" + v.Command.Name}
	}
	names := make([]string, 0, len(v.Ports))
	for name := range v.Ports {
		names = append(names, name)
	}
	sort.Strings(names) // the template ranges over the map in key order
	for _, name := range names {
		if hp := v.Ports[name]; hp.Enabled {
			c.Ports = append(c.Ports, corev1.ContainerPort{Name: name, ContainerPort: hp.ContainerPort, Protocol: corev1.Protocol(hp.Protocol)})
			p.service.ports = append(p.service.ports, corev1.ServicePort{
				Name: name, Port: hp.ServicePort,
				TargetPort: intstr.FromInt32(hp.ContainerPort), Protocol: corev1.Protocol(hp.Protocol),
			})
		}
	}
	field := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
	}
	c.Env = []corev1.EnvVar{
		field("MY_POD_IP", "status.podIP"), field("OTEL_K8S_NODE_NAME", "spec.nodeName"),
		field("OTEL_K8S_NODE_IP", "status.hostIP"), field("OTEL_K8S_NAMESPACE", "metadata.namespace"),
		field("OTEL_K8S_POD_NAME", "metadata.name"), field("OTEL_K8S_POD_IP", "status.podIP"),
	}
	if v.Resources != nil {
		c.Resources = *v.Resources
		if lim := v.Resources.Limits.Memory(); deref(v.UseGOMEMLIMIT) && !lim.IsZero() {
			c.Env = append(c.Env, corev1.EnvVar{Name: "GOMEMLIMIT", Value: chartGoMemLimit(lim)})
		}
	}
	c.Env = append(c.Env, v.ExtraEnvs...)
	probe := func(hp *helmProbe) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: hp.HTTPGet.Path, Port: hp.HTTPGet.Port}}}
	}
	c.LivenessProbe, c.ReadinessProbe = probe(v.LivenessProbe), probe(v.ReadinessProbe)
	p.spec = corev1.PodSpec{
		AutomountServiceAccountToken:  &v.ServiceAccount.AutomountServiceAccountToken,
		SecurityContext:               v.PodSecurityContext,
		Containers:                    []corev1.Container{c},
		TerminationGracePeriodSeconds: v.TerminationGracePeriodSeconds,
		TopologySpreadConstraints:     v.TopologySpreadConstraints,
		Volumes: append([]corev1.Volume{{Name: chartName + "-configmap", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: configMapName},
		}}}}, v.ExtraVolumes...),
	}
	// templates/service.yaml
	p.service.name, p.service.selector = fullname, p.labels
	// templates/pdb.yaml
	if v.PodDisruptionBudget != nil && v.PodDisruptionBudget.Enabled {
		p.disruptions = &disruptionView{selector: p.labels, minAvailable: v.PodDisruptionBudget.MinAvailable}
	}
	// The ConfigMap's relay: the merged config, as YAML.
	config, err := yaml.Marshal(v.Config)
	if err != nil {
		t.Fatal(err)
	}
	p.config = string(config)
	checkMountsHaveVolumes(t, p)
	return p
}

// chartGoMemLimit is the chart's opentelemetry-collector.gomemlimit: 80 % of
// the memory limit in whole MiB, rounded down.
func chartGoMemLimit(limit *resource.Quantity) string {
	return fmt.Sprintf("%dMiB", int64(float64(limit.Value())*0.8)/(1<<20))
}

// checkMountsHaveVolumes: every volume mount names a volume of the pod or a
// claim template of the StatefulSet.
func checkMountsHaveVolumes(t *testing.T, p collectorPod) {
	t.Helper()
	var names []string
	for _, v := range p.spec.Volumes {
		names = append(names, v.Name)
	}
	for _, c := range p.claims {
		names = append(names, c.Name)
	}
	for _, m := range p.container().VolumeMounts {
		if !slices.Contains(names, m.Name) {
			t.Errorf("%s: volume mount %q names no volume (%v)", p.path, m.Name, names)
		}
	}
}

func TestHelmMerge(t *testing.T) {
	defaults := map[string]any{
		"config": map[string]any{
			"receivers": map[string]any{"otlp": map[string]any{"protocols": map[string]any{}}, "jaeger": map[string]any{}},
			"service":   map[string]any{"extensions": []any{"health_check"}},
		},
		"ports":  map[string]any{"otlp": map[string]any{"enabled": true, "containerPort": 4317}},
		"mode":   "",
		"labels": map[string]any{"a": "1"},
	}
	values := map[string]any{
		"config": map[string]any{
			"receivers": map[string]any{"otlp": nil, "zitadel": map[string]any{}},
			"service":   map[string]any{"extensions": []any{"health_check", "file_storage"}},
		},
		"ports":  map[string]any{"otlp": map[string]any{"enabled": false}},
		"mode":   "statefulset",
		"labels": "not a table",
	}
	got := helmMerge(defaults, values)
	want := map[string]any{
		"config": map[string]any{
			"receivers": map[string]any{"jaeger": map[string]any{}, "zitadel": map[string]any{}},
			"service":   map[string]any{"extensions": []any{"health_check", "file_storage"}},
		},
		"ports":  map[string]any{"otlp": map[string]any{"enabled": false, "containerPort": float64(4317)}},
		"mode":   "statefulset",
		"labels": "not a table",
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	if string(a) != string(b) {
		t.Errorf("merged\n%s\nwant\n%s", a, b)
	}
	if dead := deadNulls(map[string]any{"config": map[string]any{"receivers": map[string]any{"otlp": nil, "nope": nil}}}, defaults, ""); !slices.Equal(dead, []string{"config::receivers::nope"}) {
		t.Errorf("dead nulls %v, want the one that removes nothing", dead)
	}
}
