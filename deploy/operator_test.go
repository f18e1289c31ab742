package deploy

import (
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
// its Service, in a namespace.
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
	// Ports: those of spec.ports, then the collector's own metrics port from
	// service::telemetry (8888 when the Operator cannot tell).
	for _, sp := range s.Ports {
		c.Ports = append(c.Ports, corev1.ContainerPort{Name: sp.Name, ContainerPort: sp.Port, Protocol: sp.Protocol})
		p.service.ports = append(p.service.ports, corev1.ServicePort{Name: sp.Name, Port: sp.Port, TargetPort: intstr.FromInt32(sp.Port), Protocol: sp.Protocol})
	}
	metricsPort := int32(8888)
	if port, ok := listen["collector's own metrics"]; ok {
		metricsPort = int32(port)
	}
	c.Ports = append(c.Ports, corev1.ContainerPort{Name: "metrics", ContainerPort: metricsPort, Protocol: corev1.ProtocolTCP})
	p.service.ports = append(p.service.ports, corev1.ServicePort{Name: "metrics", Port: metricsPort, TargetPort: intstr.FromInt32(metricsPort)})
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
	p.service.name, p.service.selector = name, p.selector // naming.Service
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
