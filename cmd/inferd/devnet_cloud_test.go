package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
)

// TestPrepareCloudSkips: without a provider, or without a container
// runtime, the demo's cloud part is skipped with one line saying why, and
// nothing is built or added.
func TestPrepareCloudSkips(t *testing.T) {
	add := func([]byte) (cid.Cid, error) { return cid.Undef, errors.New("nothing may be added") }
	if c := prepareCloud(context.Background(), t.TempDir(), 0, add); !strings.Contains(c.skip, "no provider") || c.image.Defined() {
		t.Errorf("no provider: %+v", c)
	}
	t.Setenv("PATH", t.TempDir()) // no podman
	c := prepareCloud(context.Background(), t.TempDir(), 1, add)
	if !strings.HasPrefix(c.skip, "no container runtime here") || !strings.Contains(c.skip, "apt-get install -y podman runc") || strings.Contains(c.skip, "\n") || c.image.Defined() {
		t.Errorf("no podman: %+v", c)
	}
}
