package main

import (
	"testing"

	"github.com/inferd/inferd/ledger/compute"
)

// A sealed job shows its result as pending reveal, with the reveal
// deadline, never an empty result.
func TestJobResultPendingReveal(t *testing.T) {
	if got := jobResult(compute.Job{Status: compute.JobSealed, Deadline: 61}); got != "pending reveal (by height 61)" {
		t.Fatalf("sealed job result shown as %q", got)
	}
	if got := jobResult(compute.Job{Status: compute.JobDone, Result: "bafyx"}); got != "bafyx" {
		t.Fatalf("done job result shown as %q", got)
	}
}
