package container

import (
	"context"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/inferd/inferd/compute/jobspec"
)

// serviceSpec is a busybox httpd serving /healthz on 8080.
func serviceSpec() *jobspec.Spec {
	return &jobspec.Spec{
		Kind:    jobspec.KindService,
		Image:   jobspec.Image{CID: testCID},
		Command: []string{"/bin/sh", "-c"},
		Args: []string{`mkdir -p /tmp/w && echo ok > /tmp/w/healthz && ip route > /tmp/w/route && echo started &&
exec httpd -f -p 8080 -h /tmp/w`},
		Resources: jobspec.Resources{MilliCPU: 500, MemoryBytes: 64 << 20},
		Service:   &jobspec.Service{Port: 8080, HealthPath: "/healthz", DurationBlocks: 10, PricePerBlock: 1},
	}
}

func TestService(t *testing.T) {
	r := testRunner(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	svc, err := r.StartService(ctx, Job{Spec: serviceSpec(), Image: shared.image, OutputDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Stop(ctx)
	if err := svc.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	get := func(p string) string {
		resp, err := http.Get("http://" + svc.Addr + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := get("/healthz"); got != "ok\n" {
		t.Fatalf("GET /healthz on %s: %q", svc.Addr, got)
	}
	// network = false: the internal network has no route out.
	if route := get("/route"); strings.Contains(route, "default") {
		t.Errorf("a service without network has a default route: %q", route)
	}
	// Nothing is published on the host's loopback for it.
	if out, _ := exec.Command("ss", "-ltn").Output(); strings.Contains(string(out), ":8080 ") {
		t.Logf("note: something on the host listens on 8080: %s", out)
	}
	if logs := svc.Logs(ctx); !strings.Contains(string(logs), "started") {
		t.Errorf("service logs: %q", logs)
	}
	if err := svc.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if svc.Running(ctx) {
		t.Fatal("service still running after Stop")
	}
	// (A connection may still be accepted: this VM's gateway takes any
	// TCP connection once the bridge's route is gone. The service's
	// answer must not come back.)
	fresh := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := fresh.Get("http://" + svc.Addr + "/healthz"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) == "ok\n" {
			t.Fatalf("service at %s answered after Stop", svc.Addr)
		}
	}
}
