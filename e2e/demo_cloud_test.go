package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/node/api"
)

// podmanRuns is what the demo's providers need to run containers: root,
// podman and runc, and podman able to run here.
func podmanRuns() bool {
	if os.Geteuid() != 0 {
		return false
	}
	if _, err := os.Stat("/usr/sbin/runc"); err != nil {
		return false
	}
	return exec.Command("podman", "--runtime", "/usr/sbin/runc", "info", "--format", "{{.Host.OCIRuntime.Name}}").Run() == nil
}

var (
	predictionLine = regexp.MustCompile(`demo: prediction from model (\S+) through the lease: point \(\S+, \S+\) labelled (\d) is class (\d)`)
	leaseLine      = regexp.MustCompile(`demo: submitted lease (\d+): image (\S+) `)
	batchLine      = regexp.MustCompile(`demo: batch job (\d+) done by \S+: outputs (\S+) .*accuracy (\d+) ppm`)
)

// checkDemoCloud checks the demo's lease and batch container job, from
// its output and the ledger: the lease serves the contest's winning model
// from the image the demo built, is running and charged; the batch job is
// done with outputs and logs whose accuracy is the contest's agreed score.
func checkDemoCloud(t *testing.T, out *lockedBuffer, apiURL, winner string) {
	if !podmanRuns() {
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(out.String(), "no container runtime here") {
			if time.Now().After(deadline) {
				t.Fatalf("podman cannot run here, and the demo did not say so:\n%s", out)
			}
			time.Sleep(500 * time.Millisecond)
		}
		t.Skip("podman cannot run here (needs root, podman and runc); the demo said so and played the rest")
	}
	deadline := time.Now().Add(4 * time.Minute)
	for !predictionLine.MatchString(out.String()) || !batchLine.MatchString(out.String()) {
		if time.Now().After(deadline) || strings.Contains(out.String(), "demo: stopped") || strings.Contains(out.String(), "skipping the container") {
			t.Fatalf("the demo's lease and batch job did not complete:\n%s", out)
		}
		time.Sleep(500 * time.Millisecond)
	}
	o := out.String()
	p := predictionLine.FindStringSubmatch(o)
	if p[2] != p[3] {
		t.Errorf("the winning model misclassified the demo's point: %s", p[0])
	}
	l := leaseLine.FindStringSubmatch(o)
	id, _ := strconv.ParseUint(l[1], 10, 64)
	var j api.JobResponse
	if _, err := getJSON(fmt.Sprintf("%s/jobs/%d", apiURL, id), &j); err != nil {
		t.Fatal(err)
	}
	if j.Kind != compute.KindService || j.Status != compute.JobRunning || j.Workload != l[2] || j.Lease == nil || j.Lease.Started == 0 || !bytes.Contains(j.Spec, []byte(winner)) {
		t.Fatalf("lease %d: %+v", id, j.Job)
	}
	b := batchLine.FindStringSubmatch(o)
	id, _ = strconv.ParseUint(b[1], 10, 64)
	if _, err := getJSON(fmt.Sprintf("%s/jobs/%d", apiURL, id), &j); err != nil {
		t.Fatal(err)
	}
	if j.Kind != compute.KindBatch || j.Status != compute.JobDone || j.Outputs != b[2] || j.Logs == "" || j.Charged+j.Refunded != j.MaxPrice {
		t.Fatalf("batch job %d: %+v", id, j.Job)
	}
	// The batch job's accuracy is the score the validators agreed on.
	var subs api.SubmissionsResponse
	if _, err := getJSON(apiURL+"/contests/1/submissions?round=1", &subs); err != nil {
		t.Fatal(err)
	}
	if got := b[3]; subs.Submissions[0].AgreedScore == nil || got != fmt.Sprint(*subs.Submissions[0].AgreedScore) {
		t.Errorf("batch accuracy %s ppm, agreed score %v", got, subs.Submissions[0].AgreedScore)
	}
}
