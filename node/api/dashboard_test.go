package api

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// Every metric the Grafana dashboard queries is one the node registers:
// renaming a metric without the dashboard (or the reverse) fails here.
func TestGrafanaDashboardMetrics(t *testing.T) {
	raw, err := os.ReadFile("../../contrib/grafana/inferd.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("contrib/grafana/inferd.json: %v", err)
	}
	m := NewMetrics()
	// Vectors appear once they have a child.
	m.GossipRejects.WithLabelValues("tx", "reject").Inc()
	m.apiRequests.WithLabelValues("/status", "200").Inc()
	m.BlockInterval.Observe(1)
	m.BlockTxs.Observe(1)
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range fams {
		have[f.GetName()] = true
	}
	name := regexp.MustCompile(`\b(inferd|process|go)_[a-z0-9_]+\b`)
	used := 0
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, n := range name.FindAllString(tg.Expr, -1) {
				used++
				base := n
				for _, suf := range []string{"_bucket", "_sum", "_count"} {
					if b := strings.TrimSuffix(n, suf); b != n && have[b] {
						base = b
					}
				}
				if !have[base] {
					t.Errorf("panel %q queries %s, which the node does not register", p.Title, n)
				}
			}
		}
	}
	// Every inferd metric is on the dashboard.
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), "inferd_") && !strings.Contains(string(raw), f.GetName()) {
			t.Errorf("metric %s is registered but not on the dashboard", f.GetName())
		}
	}
	if used < 15 {
		t.Fatalf("only %d metric references found in the dashboard", used)
	}
}
