package deploy

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// operatorCollector is the part of the Operator's v1beta1 OpenTelemetryCollector
// deploy/operator sets; a field it does not know is refused.
type operatorCollector struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		Mode                          string                            `json:"mode"`
		Replicas                      *int32                            `json:"replicas"`
		Image                         string                            `json:"image"`
		ImagePullPolicy               corev1.PullPolicy                 `json:"imagePullPolicy"`
		EnvFrom                       []corev1.EnvFromSource            `json:"envFrom"`
		Env                           []corev1.EnvVar                   `json:"env"`
		Ports                         []corev1.ServicePort              `json:"ports"`
		PodSecurityContext            *corev1.PodSecurityContext        `json:"podSecurityContext"`
		SecurityContext               *corev1.SecurityContext           `json:"securityContext"`
		TerminationGracePeriodSeconds *int64                            `json:"terminationGracePeriodSeconds"`
		TopologySpreadConstraints     []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints"`
		PodDisruptionBudget           *struct {
			MinAvailable *intstr.IntOrString `json:"minAvailable"`
		} `json:"podDisruptionBudget"`
		Resources            corev1.ResourceRequirements    `json:"resources"`
		VolumeClaimTemplates []corev1.PersistentVolumeClaim `json:"volumeClaimTemplates"`
		VolumeMounts         []corev1.VolumeMount           `json:"volumeMounts"`
		Config               map[string]any                 `json:"config"`
	} `json:"spec"`
}

// operatorCollectorPod renders what the Operator makes of the resource
// (internal/manifests/collector: container.go, deployment.go, statefulset.go,
// service.go, and the labels of manifestutils): its pod, its configuration and
// its Services, in a namespace.
func operatorCollectorPod(t *testing.T, path, namespace string) collectorPod {
	t.Helper()
	var o operatorCollector
	decodeStrict(t, path, &o)
	if o.APIVersion != "opentelemetry.io/v1beta1" || o.Kind != "OpenTelemetryCollector" {
		t.Fatalf("%s: %s %s, want opentelemetry.io/v1beta1 OpenTelemetryCollector", path, o.APIVersion, o.Kind)
	}
	s := o.Spec
	p := collectorPod{path: path, replicas: s.Replicas, claims: s.VolumeClaimTemplates}
	p.kind = map[string]string{"deployment": "Deployment", "statefulset": "StatefulSet"}[s.Mode]
	if p.kind == "" {
		t.Fatalf("%s: mode %q; the rendering here knows deployment and statefulset", path, s.Mode)
	}
	name := o.Metadata.Name + "-collector" // naming.Collector
	p.selector = map[string]string{
		"app.kubernetes.io/managed-by": "opentelemetry-operator",
		"app.kubernetes.io/instance":   namespace + "." + o.Metadata.Name,
		"app.kubernetes.io/part-of":    "opentelemetry",
		"app.kubernetes.io/component":  "opentelemetry-collector",
	}
	p.labels = map[string]string{"app.kubernetes.io/name": name}
	for k, v := range o.Metadata.Labels {
		p.labels[k] = v
	}
	for k, v := range p.selector {
		p.labels[k] = v
	}

	config, err := yaml.Marshal(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	p.config = string(config)
	listen := listenPorts(t, path, p.config)

	c := corev1.Container{
		Name:            "otc-container",
		Image:           s.Image,
		ImagePullPolicy: s.ImagePullPolicy,
		Args:            []string{"--config=/conf/collector.yaml"},
		EnvFrom:         s.EnvFrom,
		Resources:       s.Resources,
		SecurityContext: s.SecurityContext,
		VolumeMounts:    append([]corev1.VolumeMount{{Name: "otc-internal", MountPath: "/conf"}}, s.VolumeMounts...),
	}
	// The user's variables, then those the Operator adds unless the user set them.
	c.Env = append(c.Env, s.Env...)
	inferred := []corev1.EnvVar{
		{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		{Name: "GOMEMLIMIT", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory", ContainerName: "otc-container"}}},
		{Name: "GOMAXPROCS", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu", ContainerName: "otc-container"}}},
	}
	for _, e := range inferred {
		if !hasEnv(c.Env, e.Name) {
			c.Env = append(c.Env, e)
		}
	}
	// Container ports: those of spec.ports, then the collector's own metrics
	// port from service::telemetry (8888 when the Operator cannot tell).
	for _, sp := range s.Ports {
		c.Ports = append(c.Ports, corev1.ContainerPort{Name: sp.Name, ContainerPort: sp.Port, Protocol: sp.Protocol})
	}
	metricsPort := int32(8888)
	if port, ok := listen["collector's own metrics"]; ok {
		metricsPort = int32(port)
	}
	c.Ports = append(c.Ports, corev1.ContainerPort{Name: "metrics", ContainerPort: metricsPort, Protocol: corev1.ProtocolTCP})
	// Probes from the health_check extension's endpoint and path.
	health := intstr.FromInt32(int32(listen["health_check"]))
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: health}}}
	c.LivenessProbe, c.ReadinessProbe = probe, probe

	p.spec = corev1.PodSpec{
		SecurityContext:               s.PodSecurityContext,
		Containers:                    []corev1.Container{c},
		TerminationGracePeriodSeconds: s.TerminationGracePeriodSeconds,
		TopologySpreadConstraints:     s.TopologySpreadConstraints,
		Volumes: []corev1.Volume{{Name: "otc-internal", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: name},
		}}}},
	}
	// service.go: Service holds the receivers' and exporters' ports and
	// spec.ports, not the collector's own metrics; MonitoringService holds
	// those alone, under the port name monitoring.
	p.service = serviceView{name: name, selector: p.selector, ports: operatorServicePorts(t, path, s.Ports, s.Config)}
	p.monitoring = &serviceView{name: name + "-monitoring", selector: p.selector, ports: []corev1.ServicePort{
		// The API server defaults the unset targetPort to the port.
		{Name: "monitoring", Port: metricsPort, TargetPort: intstr.FromInt32(metricsPort)},
	}}
	if s.PodDisruptionBudget != nil {
		p.disruptions = &disruptionView{selector: p.selector, minAvailable: s.PodDisruptionBudget.MinAvailable}
	}
	checkMountsHaveVolumes(t, p)
	return p
}

func hasEnv(env []corev1.EnvVar, name string) bool {
	for _, e := range env {
		if e.Name == name {
			return true
		}
	}
	return false
}

// operatorServicePorts are the ports of the Operator's <name>-collector
// Service (service.go's Service): spec.ports, then the ports it infers from
// the receivers and exporters (otelconfig.GetReceiverAndExporterPorts), less
// those whose number spec.ports has, renamed port-<n> where the name is taken.
func operatorServicePorts(t *testing.T, path string, spec []corev1.ServicePort, config map[string]any) []corev1.ServicePort {
	t.Helper()
	ports := make([]corev1.ServicePort, 0, len(spec))
	numbers, names := map[int32]bool{}, map[string]bool{}
	for _, sp := range spec {
		ports = append(ports, corev1.ServicePort{Name: sp.Name, Port: sp.Port, TargetPort: intstr.FromInt32(sp.Port), Protocol: sp.Protocol})
		numbers[sp.Port], names[sp.Name] = true, true
	}
	for _, inferred := range operatorInferredPorts(t, path, config) {
		if numbers[inferred.Port] {
			continue
		}
		if names[inferred.Name] {
			inferred.Name = fmt.Sprintf("port-%d", inferred.Port)
		}
		ports = append(ports, inferred)
	}
	return ports
}

// operatorInferredPorts: a receiver the Operator has no parser for gives the
// port of its top-level endpoint, if it has one (receivers' ReceiverFor); of
// the exporters only prometheus gives one, its endpoint's (exporters'
// ParserFor). The receivers it has parsers of their own for are refused
// here, so that none is taken for one without ports.
func operatorInferredPorts(t *testing.T, path string, config map[string]any) []corev1.ServicePort {
	t.Helper()
	var ports []corev1.ServicePort
	inferred := func(id string, endpoint any) {
		if e, ok := endpoint.(string); ok && e != "" {
			n := int32(port(t, e))
			ports = append(ports, corev1.ServicePort{Name: id, Port: n, TargetPort: intstr.FromInt32(n)})
		}
	}
	receivers, _ := config["receivers"].(map[string]any)
	for id, r := range receivers {
		if typ, _, _ := strings.Cut(id, "/"); typ != "zitadel" && typ != "zitadeltelemetry" {
			t.Fatalf("%s: receiver %q; the rendering here knows the Operator's ports of zitadel and zitadeltelemetry only", path, id)
		}
		rm, _ := r.(map[string]any)
		inferred(id, rm["endpoint"])
	}
	exporters, _ := config["exporters"].(map[string]any)
	for id, e := range exporters {
		if typ, _, _ := strings.Cut(id, "/"); typ == "prometheus" {
			em, _ := e.(map[string]any)
			inferred(id, em["endpoint"])
		}
	}
	sort.Slice(ports, func(i, j int) bool { return ports[i].Name < ports[j].Name })
	return ports
}
