package deploy

import (
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"
)

// collectorPod is what one path (plain manifests, Helm chart, Operator) runs
// for one collector: the pod as that path renders it, the configuration the
// collector reads in it, and the Services in front of it.
type collectorPod struct {
	path        string
	kind        string // Deployment or StatefulSet
	replicas    *int32
	labels      map[string]string
	selector    map[string]string
	spec        corev1.PodSpec
	claims      []corev1.PersistentVolumeClaim
	config      string
	service     serviceView
	monitoring  *serviceView // the Operator's Service for the collector's own metrics
	disruptions *disruptionView
}

// services are the Services in front of the pods.
func (p collectorPod) services() []serviceView {
	if p.monitoring == nil {
		return []serviceView{p.service}
	}
	return []serviceView{p.service, *p.monitoring}
}

type serviceView struct {
	name     string
	selector map[string]string
	ports    []corev1.ServicePort
}

type disruptionView struct {
	selector     map[string]string
	minAvailable *intstr.IntOrString
}

func (p collectorPod) container() corev1.Container { return p.spec.Containers[0] }

// containerPort resolves a probe's or a Service's target port, a name or a number.
func (p collectorPod) containerPort(port intstr.IntOrString) int32 {
	if port.Type == intstr.Int {
		return port.IntVal
	}
	for _, cp := range p.container().Ports {
		if cp.Name == port.StrVal {
			return cp.ContainerPort
		}
	}
	return 0
}

// The hardening every pod of every path has: what the restricted Pod Security
// Standard asks, the image's own user, and a read-only root file system.
const (
	imageUser          = 10001
	gracePeriodSeconds = 15
)

var restricted = func() policy.Evaluator {
	e, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		panic(err)
	}
	return e
}()

// checkHardening holds a pod to the restricted Pod Security Standard, with the
// admission plugin's own checks, and to the rest of the hardening.
func checkHardening(t *testing.T, p collectorPod) {
	t.Helper()
	meta := metav1.ObjectMeta{Labels: p.labels}
	for _, r := range restricted.EvaluatePod(psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: psaapi.LatestVersion()}, &meta, &p.spec) {
		if !r.Allowed {
			t.Errorf("%s: a namespace enforcing the restricted Pod Security Standard refuses the pod: %s (%s)", p.path, r.ForbiddenReason, r.ForbiddenDetail)
		}
	}
	s := effectiveSecurity(p)
	want := podSecurity{
		runAsUser: imageUser, runAsGroup: imageUser, runAsNonRoot: true, noPrivilegeEscalation: true,
		readOnlyRoot: true, dropAll: true, seccomp: corev1.SeccompProfileTypeRuntimeDefault,
	}
	if s != want {
		t.Errorf("%s: security %+v, want %+v", p.path, s, want)
	}
	if g := p.spec.TerminationGracePeriodSeconds; g == nil || *g != gracePeriodSeconds {
		t.Errorf("%s: terminationGracePeriodSeconds %d, want %d: reports and pages in flight get 5 s, the collector exits 5.3 s after SIGTERM at worst", p.path, deref(g), gracePeriodSeconds)
	}
}

// podSecurity is the security a container runs with, pod and container
// settings taken together as the kubelet does.
type podSecurity struct {
	runAsUser, runAsGroup int64
	runAsNonRoot          bool
	noPrivilegeEscalation bool
	readOnlyRoot          bool
	dropAll               bool
	seccomp               corev1.SeccompProfileType
}

func effectiveSecurity(p collectorPod) podSecurity {
	var s podSecurity
	if ps := p.spec.SecurityContext; ps != nil {
		s.runAsUser, s.runAsGroup, s.runAsNonRoot = deref(ps.RunAsUser), deref(ps.RunAsGroup), deref(ps.RunAsNonRoot)
		if ps.SeccompProfile != nil {
			s.seccomp = ps.SeccompProfile.Type
		}
	}
	if cs := p.container().SecurityContext; cs != nil {
		if cs.RunAsUser != nil {
			s.runAsUser = *cs.RunAsUser
		}
		if cs.RunAsGroup != nil {
			s.runAsGroup = *cs.RunAsGroup
		}
		if cs.RunAsNonRoot != nil {
			s.runAsNonRoot = *cs.RunAsNonRoot
		}
		if cs.SeccompProfile != nil {
			s.seccomp = cs.SeccompProfile.Type
		}
		s.noPrivilegeEscalation = cs.AllowPrivilegeEscalation != nil && !*cs.AllowPrivilegeEscalation
		s.readOnlyRoot = deref(cs.ReadOnlyRootFilesystem)
		s.dropAll = cs.Capabilities != nil && len(cs.Capabilities.Add) == 0 &&
			len(cs.Capabilities.Drop) == 1 && cs.Capabilities.Drop[0] == "ALL"
	}
	return s
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// checkImage holds an image reference to the one `make image` tags
// (scripts/image.sh) at the distribution's version in builder-config.yaml.
func checkImage(t *testing.T, p collectorPod) {
	t.Helper()
	c := p.container()
	if want := imageReference(t); c.Image != want {
		t.Errorf("%s: image %q, want %q, the reference make image tags", p.path, c.Image, want)
	}
	if c.ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("%s: imagePullPolicy %q, want IfNotPresent: a node that has the image loaded runs it without a registry", p.path, c.ImagePullPolicy)
	}
}

func imageReference(t *testing.T) string {
	t.Helper()
	script, err := os.ReadFile("../scripts/image.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^image=(\S+):\$VERSION$`).FindSubmatch(script)
	if m == nil {
		t.Fatal("scripts/image.sh: no image=<name>:$VERSION line")
	}
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
	return string(m[1]) + ":" + manifest.Dist.Version
}

// checkMemory holds GOMEMLIMIT to the memory_limiter's hard limit, both a
// share of the container's memory limit: the runtime collects garbage harder
// where memory_limiter forces it, and the rest of the limit is left to what
// the runtime does not count.
func checkMemory(t *testing.T, p collectorPod) {
	t.Helper()
	c := p.container()
	req, lim := c.Resources.Requests.Memory(), c.Resources.Limits.Memory()
	if req.IsZero() || lim.IsZero() || req.Cmp(*lim) > 0 {
		t.Fatalf("%s: memory request %s and limit %s, want both, the request not above the limit", p.path, req, lim)
	}
	var limiter struct {
		Processors struct {
			MemoryLimiter struct {
				LimitPercentage      int64 `json:"limit_percentage"`
				SpikeLimitPercentage int64 `json:"spike_limit_percentage"`
			} `json:"memory_limiter"`
		} `json:"processors"`
	}
	if err := yaml.Unmarshal([]byte(p.config), &limiter); err != nil {
		t.Fatal(err)
	}
	ml := limiter.Processors.MemoryLimiter
	if ml.LimitPercentage == 0 || ml.SpikeLimitPercentage == 0 || ml.SpikeLimitPercentage >= ml.LimitPercentage {
		t.Errorf("%s: memory_limiter %+v, want a limit and a smaller spike limit in percent", p.path, ml)
	}
	got, err := goMemLimit(c, lim)
	if err != nil {
		t.Errorf("%s: %v", p.path, err)
		return
	}
	// The chart's rounding: the share in whole MiB, rounded down.
	want := lim.Value() * ml.LimitPercentage / 100 / (1 << 20) << 20
	if got != want {
		t.Errorf("%s: GOMEMLIMIT is %d MiB, want %d MiB: memory_limiter's limit_percentage (%d %%) of the %s limit", p.path, got>>20, want>>20, ml.LimitPercentage, lim)
	}
}

// goMemLimit is the GOMEMLIMIT the container's environment gives the Go
// runtime, in bytes.
func goMemLimit(c corev1.Container, limit *resource.Quantity) (int64, error) {
	for _, e := range c.Env {
		if e.Name != "GOMEMLIMIT" {
			continue
		}
		if e.ValueFrom != nil && e.ValueFrom.ResourceFieldRef != nil && e.ValueFrom.ResourceFieldRef.Resource == "limits.memory" {
			divisor := e.ValueFrom.ResourceFieldRef.Divisor
			if !divisor.IsZero() && divisor.Value() != 1 {
				return 0, fmt.Errorf("GOMEMLIMIT from limits.memory with divisor %s: the runtime reads a number without a unit as bytes", &divisor)
			}
			return limit.Value(), nil
		}
		m := regexp.MustCompile(`^(\d+)(B|KiB|MiB|GiB)?$`).FindStringSubmatch(e.Value)
		if m == nil {
			return 0, fmt.Errorf("GOMEMLIMIT %q is not a size the Go runtime reads", e.Value)
		}
		n, _ := strconv.ParseInt(m[1], 10, 64)
		return n << map[string]int{"": 0, "B": 0, "KiB": 10, "MiB": 20, "GiB": 30}[m[2]], nil
	}
	return 0, fmt.Errorf("no GOMEMLIMIT: the Go runtime would not know the limit")
}

// checkProbesAndPorts holds the probes to health_check, and the container
// and Service ports to what the configuration listens on.
func checkProbesAndPorts(t *testing.T, p collectorPod) {
	t.Helper()
	c := p.container()
	listen := listenPorts(t, p.path, p.config)
	for name, probe := range map[string]*corev1.Probe{"readinessProbe": c.ReadinessProbe, "livenessProbe": c.LivenessProbe} {
		if probe == nil || probe.HTTPGet == nil || p.containerPort(probe.HTTPGet.Port) != int32(listen["health_check"]) {
			t.Errorf("%s: %s %+v does not ask health_check on %d", p.path, name, probe, listen["health_check"])
		}
	}
	declared := map[int32]bool{}
	for _, cp := range c.Ports {
		declared[cp.ContainerPort] = true
	}
	for what, port := range listen {
		if what != "health_check" && !declared[int32(port)] {
			t.Errorf("%s: the configuration's %s listens on %d, which no container port declares", p.path, what, port)
		}
	}
	exposed := map[int32]bool{}
	for _, s := range p.services() {
		if len(s.selector) == 0 || !selects(s.selector, p.labels) {
			t.Errorf("%s: Service %q selector %v does not select the pods (%v)", p.path, s.name, s.selector, p.labels)
		}
		for _, sp := range s.ports {
			target := p.containerPort(sp.TargetPort)
			if !declared[target] {
				t.Errorf("%s: Service %q port %q targets %s, which no container port declares", p.path, s.name, sp.Name, sp.TargetPort.String())
			}
			exposed[target] = true
		}
	}
	for what, port := range listen {
		if what != "health_check" && !exposed[int32(port)] {
			t.Errorf("%s: no Service exposes the %s port %d", p.path, what, port)
		}
	}
}

// listenPorts are the ports a collector configuration listens on, by what
// listens; a host made of a variable (${env:MY_POD_IP}) is fine.
func listenPorts(t *testing.T, where, config string) map[string]int {
	t.Helper()
	var c struct {
		Extensions struct {
			HealthCheck struct {
				Endpoint string `json:"endpoint"`
			} `json:"health_check"`
		} `json:"extensions"`
		Receivers struct {
			Telemetry *struct {
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
		Service struct {
			Telemetry struct {
				Metrics struct {
					Readers []struct {
						Pull struct {
							Exporter struct {
								Prometheus struct {
									Port int `json:"port"`
								} `json:"prometheus"`
							} `json:"exporter"`
						} `json:"pull"`
					} `json:"readers"`
				} `json:"metrics"`
			} `json:"telemetry"`
		} `json:"service"`
	}
	if err := yaml.Unmarshal([]byte(config), &c); err != nil {
		t.Fatal(err)
	}
	ports := map[string]int{
		"health_check":        port(t, c.Extensions.HealthCheck.Endpoint),
		"prometheus exporter": port(t, c.Exporters.Prometheus.Endpoint),
	}
	if c.Receivers.Telemetry != nil {
		ports["zitadeltelemetry receiver"] = port(t, c.Receivers.Telemetry.HTTP.Endpoint)
	}
	if r := c.Service.Telemetry.Metrics.Readers; len(r) != 1 || r[0].Pull.Exporter.Prometheus.Port == 0 {
		t.Errorf("%s: service::telemetry::metrics::readers %+v, want one Prometheus pull reader with its port", where, r)
	} else {
		ports["collector's own metrics"] = r[0].Pull.Exporter.Prometheus.Port
	}
	return ports
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

func selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// checkSameAcrossPaths holds the paths of one collector to each other: the
// same replicas, resources, environment from the Secret, hardening, spread and
// configuration, but for the address each path listens on.
func checkSameAcrossPaths(t *testing.T, pods []collectorPod) {
	t.Helper()
	first := pods[0]
	for _, p := range pods[1:] {
		if deref(p.replicas) != deref(first.replicas) || p.kind != first.kind {
			t.Errorf("%s runs %d in a %s, %s %d in a %s", p.path, deref(p.replicas), p.kind, first.path, deref(first.replicas), first.kind)
		}
		if a, b := p.container().Resources, first.container().Resources; !a.Requests.Memory().Equal(*b.Requests.Memory()) ||
			!a.Limits.Memory().Equal(*b.Limits.Memory()) || !a.Requests.Cpu().Equal(*b.Requests.Cpu()) {
			t.Errorf("%s: resources %v, %s: %v", p.path, a, first.path, b)
		}
		if a, b := secretNames(p), secretNames(first); !maps.Equal(a, b) {
			t.Errorf("%s reads the Secrets %v, %s %v", p.path, a, first.path, b)
		}
		if a, b := effectiveSecurity(p), effectiveSecurity(first); a != b {
			t.Errorf("%s: security %+v, %s: %+v", p.path, a, first.path, b)
		}
		if a, b := deref(p.spec.SecurityContext).FSGroup, deref(first.spec.SecurityContext).FSGroup; deref(a) != deref(b) {
			t.Errorf("%s: fsGroup %v, %s: %v", p.path, deref(a), first.path, deref(b))
		}
		if a, b := spread(p), spread(first); !slices.Equal(a, b) {
			t.Errorf("%s: topology spread %v, %s: %v", p.path, a, first.path, b)
		}
		if a, b := comparableConfig(t, p.config), comparableConfig(t, first.config); a != b {
			t.Errorf("%s and %s run different configurations:\n%s\n---\n%s", p.path, first.path, a, b)
		}
	}
	for _, p := range pods {
		for _, tsc := range p.spec.TopologySpreadConstraints {
			if tsc.LabelSelector == nil || !selects(tsc.LabelSelector.MatchLabels, p.labels) {
				t.Errorf("%s: topology spread selector %v does not select the pods (%v)", p.path, tsc.LabelSelector, p.labels)
			}
		}
	}
}

// spread is a pod's topology spread constraints but for their selectors,
// which each path writes for its own labels.
func spread(p collectorPod) []string {
	var s []string
	for _, c := range p.spec.TopologySpreadConstraints {
		s = append(s, fmt.Sprintf("maxSkew %d over %s, %s", c.MaxSkew, c.TopologyKey, c.WhenUnsatisfiable))
	}
	return s
}

func secretNames(p collectorPod) map[string]bool {
	names := map[string]bool{}
	for _, from := range p.container().EnvFrom {
		if from.SecretRef != nil {
			names[from.SecretRef.Name] = true
		}
	}
	return names
}

// comparableConfig is a configuration's components and pipelines with the
// listening host taken out (the chart listens on the pod's IP, the others on
// every address).
func comparableConfig(t *testing.T, config string) string {
	t.Helper()
	var c map[string]any
	if err := yaml.Unmarshal([]byte(config), &c); err != nil {
		t.Fatal(err)
	}
	if telemetry, ok := dig(c, "service", "telemetry").(map[string]any); ok {
		// The chart's own resource attributes of the collector's telemetry.
		delete(telemetry, "resource")
	}
	out, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(out), "${env:MY_POD_IP}", "0.0.0.0")
}
