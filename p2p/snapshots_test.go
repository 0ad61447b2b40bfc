package p2p

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

type fakeSnapshots struct{}

func (fakeSnapshots) ListSnapshots() ([]byte, error) { return []byte("list"), nil }

func (fakeSnapshots) LoadSnapshotChunk(h uint64, f, i uint32) ([]byte, error) {
	if i > 1 {
		return nil, fmt.Errorf("no chunk %d", i)
	}
	return bytes.Repeat([]byte{byte(h), byte(f), byte(i)}, 2<<20), nil // 6 MiB
}

func TestSnapshotProtocol(t *testing.T) {
	server, client := syncPair(t, nil, nil)
	server.ServeSnapshots(fakeSnapshots{})
	ctx := context.Background()
	l, err := client.ListSnapshots(ctx, server.ID())
	if err != nil || string(l) != "list" {
		t.Fatalf("list = %q, %v", l, err)
	}
	c, err := client.LoadSnapshotChunk(ctx, server.ID(), 7, 1, 1)
	if err != nil || len(c) != 6<<20 || c[0] != 7 || c[1] != 1 || c[2] != 1 {
		t.Fatalf("chunk: %d bytes, %v", len(c), err)
	}
	_, err = client.LoadSnapshotChunk(ctx, server.ID(), 7, 1, 5)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "no chunk 5") {
		t.Fatalf("missing chunk: %v", err)
	}
}
