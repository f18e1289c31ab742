// Package deploy holds the Kubernetes manifests, the Helm chart values and the
// OpenTelemetry Operator resources that run otelcol-zitadel: the central
// collector taking reports, and the collector beside ZITADEL scraping it. No
// cluster runs here: the tests decode every manifest strictly into the
// Kubernetes API types, render each path's pod as kubectl, the Helm chart and
// the Operator would, hold the three paths of each collector to each other and
// to the restricted Pod Security Standard, and validate and start each
// collector configuration with the built collector.
package deploy

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// decodeStrict decodes one YAML document into v, refusing unknown and
// duplicate fields, as the API server's strict field validation does.
func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	decodeStrictData(t, path, data, v)
}

// decodeStrictData is decodeStrict of the bytes read from path.
func decodeStrictData(t *testing.T, path string, data []byte, v any) {
	t.Helper()
	if bytes.Contains(data, []byte("\n---")) {
		t.Fatalf("%s: one object per file", path)
	}
	if err := yaml.UnmarshalStrict(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// kustomization is all a kustomization here may say: a list of resources, so
// that `kubectl apply -k` applies exactly those files, unchanged, and these
// tests see what the cluster gets.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
}

// kubernetesObjects are the objects `kubectl apply -k dir` creates, each
// decoded strictly into its API type.
type kubernetesObjects struct {
	dir         string
	deployment  *appsv1.Deployment
	statefulSet *appsv1.StatefulSet
	service     *corev1.Service
	configMap   *corev1.ConfigMap
	disruptions *policyv1.PodDisruptionBudget
}

func loadKustomization(t *testing.T, dir string) kubernetesObjects {
	t.Helper()
	objs := kubernetesObjects{dir: dir}
	objs.add(t, dir)
	return objs
}

func (o *kubernetesObjects) add(t *testing.T, dir string) {
	t.Helper()
	var k kustomization
	decodeStrict(t, filepath.Join(dir, "kustomization.yaml"), &k)
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Fatalf("%s/kustomization.yaml: %s %s, want kustomize.config.k8s.io/v1beta1 Kustomization", dir, k.APIVersion, k.Kind)
	}
	// Every manifest in the folder is listed: nothing lies beside them that
	// `kubectl apply -f` of the folder would apply and `-k` would not.
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if name := filepath.Base(f); name != "kustomization.yaml" && !slices.Contains(k.Resources, name) {
			t.Errorf("%s is not among the resources of %s/kustomization.yaml", f, dir)
		}
	}
	for _, r := range k.Resources {
		path := filepath.Join(dir, r)
		if info, err := os.Stat(path); err != nil {
			t.Fatalf("%s/kustomization.yaml: %v", dir, err)
		} else if info.IsDir() {
			o.add(t, path)
			continue
		}
		o.addFile(t, path)
	}
}

func (o *kubernetesObjects) addFile(t *testing.T, path string) {
	t.Helper()
	var meta metav1.TypeMeta
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &meta); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	switch meta.APIVersion + " " + meta.Kind {
	case "apps/v1 Deployment":
		o.deployment = decodeAs[appsv1.Deployment](t, path, data)
	case "apps/v1 StatefulSet":
		o.statefulSet = decodeAs[appsv1.StatefulSet](t, path, data)
	case "v1 Service":
		o.service = decodeAs[corev1.Service](t, path, data)
	case "v1 ConfigMap":
		o.configMap = decodeAs[corev1.ConfigMap](t, path, data)
	case "policy/v1 PodDisruptionBudget":
		o.disruptions = decodeAs[policyv1.PodDisruptionBudget](t, path, data)
	default:
		// A Secret among them would replace the one the operator created.
		t.Fatalf("%s: %s %s is not one of the kinds shipped (Deployment, StatefulSet, Service, ConfigMap, PodDisruptionBudget)", path, meta.APIVersion, meta.Kind)
	}
}

// decodeAs decodes the object path holds, strictly, as a T.
func decodeAs[T any](t *testing.T, path string, data []byte) *T {
	t.Helper()
	v := new(T)
	decodeStrictData(t, path, data, v)
	return v
}

// pod renders what the kustomization runs: its workload's pod, the
// configuration the pod mounts, and the Service in front of it.
func (o kubernetesObjects) pod(t *testing.T) collectorPod {
	t.Helper()
	p := collectorPod{path: o.dir}
	if o.service == nil || o.configMap == nil {
		t.Fatalf("%s: want a Service and a ConfigMap beside the workload", o.dir)
	}
	switch {
	case o.deployment != nil && o.statefulSet == nil:
		d := o.deployment
		p.kind, p.replicas, p.labels, p.spec = "Deployment", d.Spec.Replicas, d.Spec.Template.Labels, d.Spec.Template.Spec
		p.selector = d.Spec.Selector.MatchLabels
	case o.statefulSet != nil && o.deployment == nil:
		s := o.statefulSet
		p.kind, p.replicas, p.labels, p.spec = "StatefulSet", s.Spec.Replicas, s.Spec.Template.Labels, s.Spec.Template.Spec
		p.selector, p.claims = s.Spec.Selector.MatchLabels, s.Spec.VolumeClaimTemplates
		if s.Spec.ServiceName != o.service.Name {
			t.Errorf("%s: StatefulSet serviceName %q, the Service is %q", o.dir, s.Spec.ServiceName, o.service.Name)
		}
	default:
		t.Fatalf("%s: want one Deployment or one StatefulSet", o.dir)
	}
	p.service = serviceView{name: o.service.Name, selector: o.service.Spec.Selector, ports: o.service.Spec.Ports}
	if o.disruptions != nil {
		p.disruptions = &disruptionView{selector: o.disruptions.Spec.Selector.MatchLabels, minAvailable: o.disruptions.Spec.MinAvailable}
	}

	if len(p.spec.Containers) != 1 {
		t.Fatalf("%s: %d containers, want the collector alone", o.dir, len(p.spec.Containers))
	}
	c := p.spec.Containers[0]
	for _, v := range p.spec.Volumes {
		if v.ConfigMap == nil || v.ConfigMap.Name != o.configMap.Name {
			continue
		}
		for _, m := range c.VolumeMounts {
			for key, config := range o.configMap.Data {
				if m.Name == v.Name && slices.Contains(c.Args, "--config="+m.MountPath+"/"+key) {
					p.config = config
				}
			}
		}
	}
	if p.config == "" {
		t.Fatalf("%s: args %v name no key of the ConfigMap %q mounted in the container", o.dir, c.Args, o.configMap.Name)
	}
	return p
}

// TestNoShippedSecret: nothing under deploy/kubernetes is a Secret, so no
// placeholder can replace the Secret created as deploy/README.md says, and a
// pod whose Secret was not created does not start (its envFrom is required).
func TestNoShippedSecret(t *testing.T) {
	var dirs []string
	err := filepath.WalkDir("kubernetes", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, path)
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal(data, &meta); err != nil {
			t.Errorf("%s: %v", path, err)
		}
		if meta.Kind == "Secret" {
			t.Errorf("%s is a Secret: applied as documented, it would replace the one created with kubectl create secret", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "kustomization.yaml")); err == nil {
			loadKustomization(t, dir) // every file listed, no other kind
		} else if files, _ := filepath.Glob(filepath.Join(dir, "*.yaml")); len(files) > 0 {
			t.Errorf("%s has manifests but no kustomization.yaml", dir)
		}
	}
	for _, p := range allPods(t) {
		for _, from := range p.container().EnvFrom {
			if from.SecretRef != nil && from.SecretRef.Optional != nil && *from.SecretRef.Optional {
				t.Errorf("%s: the Secret %q is optional: the collector would start without it", p.path, from.SecretRef.Name)
			}
		}
	}
}
