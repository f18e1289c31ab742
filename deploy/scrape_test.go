package deploy

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The scrape jobs deploy/README.md configures: the counts, which the
// ZitadelCollectorDown alert selects by job name, and the collectors' own
// metrics (dashboards/README.md).
const (
	countsJob    = "otelcol-zitadel"
	telemetryJob = "otelcol-zitadel-telemetry"
)

// scrapeConfig is the part of a Prometheus scrape configuration the README
// uses; a field it does not know is refused.
type scrapeConfig struct {
	JobName             string `json:"job_name"`
	KubernetesSDConfigs []struct {
		Role       string `json:"role"`
		Namespaces struct {
			Names []string `json:"names"`
		} `json:"namespaces"`
	} `json:"kubernetes_sd_configs"`
	RelabelConfigs []struct {
		SourceLabels []string `json:"source_labels"`
		Separator    *string  `json:"separator"`
		Regex        string   `json:"regex"`
		Action       string   `json:"action"`
	} `json:"relabel_configs"`
}

// scrapeTarget is what the endpoints role discovers for one port of a
// Service, and the container port it reaches.
type scrapeTarget struct {
	labels map[string]string
	port   int32
}

// keeps: the job discovers the target and its relabelling keeps it, as
// Prometheus does (the regex anchored, the source labels joined with ";").
func (c scrapeConfig) keeps(t *testing.T, target scrapeTarget) bool {
	t.Helper()
	if len(c.KubernetesSDConfigs) != 1 || c.KubernetesSDConfigs[0].Role != "endpoints" {
		t.Fatalf("job %s: %+v, want one kubernetes_sd_config of role endpoints", c.JobName, c.KubernetesSDConfigs)
	}
	if names := c.KubernetesSDConfigs[0].Namespaces.Names; len(names) > 0 && !slices.Contains(names, target.labels["__meta_kubernetes_namespace"]) {
		return false
	}
	for _, r := range c.RelabelConfigs {
		sep := ";"
		if r.Separator != nil {
			sep = *r.Separator
		}
		var values []string
		for _, l := range r.SourceLabels {
			values = append(values, target.labels[l])
		}
		matches := regexp.MustCompile("^(?:" + r.Regex + ")$").MatchString(strings.Join(values, sep))
		switch r.Action {
		case "keep":
			if !matches {
				return false
			}
		case "drop":
			if matches {
				return false
			}
		default:
			t.Fatalf("job %s: relabel action %q; the evaluation here knows keep and drop", c.JobName, r.Action)
		}
	}
	return true
}

// readmeScrapeConfigs are the scrape_configs blocks of deploy/README.md, one
// list of jobs each.
func readmeScrapeConfigs(t *testing.T) [][]scrapeConfig {
	t.Helper()
	var blocks [][]scrapeConfig
	for _, m := range regexp.MustCompile("(?s)```yaml\n(scrape_configs:.*?)```").FindAllStringSubmatch(readmeText(t), -1) {
		var b struct {
			ScrapeConfigs []scrapeConfig `json:"scrape_configs"`
		}
		if err := yaml.UnmarshalStrict([]byte(m[1]), &b); err != nil {
			t.Fatalf("deploy/README.md: %v\n%s", err, m[1])
		}
		blocks = append(blocks, b.ScrapeConfigs)
	}
	return blocks
}

// scrapeTargets are the targets the Services of a pod offer, in its namespace.
func scrapeTargets(p collectorPod, namespace string) []scrapeTarget {
	var targets []scrapeTarget
	for _, s := range p.services() {
		for _, sp := range s.ports {
			targets = append(targets, scrapeTarget{port: p.containerPort(sp.TargetPort), labels: map[string]string{
				"__meta_kubernetes_namespace":          namespace,
				"__meta_kubernetes_service_name":       s.name,
				"__meta_kubernetes_endpoint_port_name": sp.Name,
			}})
		}
	}
	return targets
}

// TestReadmeScrapesEveryPath: the scrape configurations of deploy/README.md
// take, on every path, the counts of the central collector and of the one
// beside ZITADEL from their Prometheus exporter, and their own metrics from
// the Service that has them (the Operator's is a Service of its own). A job
// keeps no target of another port, and no block takes the counts of both
// collectors: the central one exposes the reports of the other too, and the
// dashboard would sum each count twice.
func TestReadmeScrapesEveryPath(t *testing.T) {
	blocks := readmeScrapeConfigs(t)
	if len(blocks) == 0 {
		t.Fatal("deploy/README.md has no scrape_configs")
	}
	type collector struct {
		namespace string
		pods      []collectorPod
	}
	collectors := map[string]collector{
		"central":        {centralNamespace, centralPods(t)},
		"beside ZITADEL": {zitadelNamespace, slices.Concat(scraperPods(t, "api"), scraperPods(t, "database"))},
	}
	for name, c := range collectors {
		for _, p := range c.pods {
			listen := listenPorts(t, p.path, p.config)
			want := map[string]int32{countsJob: int32(listen["prometheus exporter"]), telemetryJob: int32(listen["collector's own metrics"])}
			found := map[string]bool{}
			for _, jobs := range blocks {
				for _, job := range jobs {
					port, ok := want[job.JobName]
					if !ok {
						t.Errorf("deploy/README.md: scrape job %q; the dashboards' rules know %s and %s", job.JobName, countsJob, telemetryJob)
						continue
					}
					for _, target := range scrapeTargets(p, c.namespace) {
						if !job.keeps(t, target) {
							continue
						}
						if target.port != port {
							t.Errorf("%s (%s): job %s keeps %v, which reaches port %d, not %d", p.path, name, job.JobName, target.labels, target.port, port)
						}
						found[job.JobName] = true
					}
				}
			}
			for job := range want {
				if !found[job] {
					t.Errorf("%s (%s): no scrape job %s in deploy/README.md reaches port %d (targets %v)", p.path, name, job, want[job], scrapeTargets(p, c.namespace))
				}
			}
		}
	}
	for _, jobs := range blocks {
		for _, job := range jobs {
			if job.JobName != countsJob {
				continue
			}
			var whose []string
			for name, c := range collectors {
				if slices.ContainsFunc(c.pods, func(p collectorPod) bool {
					return slices.ContainsFunc(scrapeTargets(p, c.namespace), func(target scrapeTarget) bool { return job.keeps(t, target) })
				}) {
					whose = append(whose, name)
				}
			}
			if len(whose) > 1 {
				t.Errorf("deploy/README.md: one job %s takes the counts of %v: each count would be summed twice", countsJob, whose)
			}
		}
	}
}
