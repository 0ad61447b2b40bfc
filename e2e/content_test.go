package e2e

import (
	"bytes"
	"crypto/rand"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A model added to a node's content store is served by that node's HTTP
// gateway and fetched over bitswap from the running node by another home.
func TestContentServedByRunningNode(t *testing.T) {
	skipShort(t)
	tn := newNet(t, 2, 200*time.Millisecond)
	model := make([]byte, 3<<20)
	rand.Read(model)
	file := filepath.Join(t.TempDir(), "model.bin")
	os.WriteFile(file, model, 0o644)
	out, err := exec.Command(inferdBin, "add", file, "--home", tn.info.Nodes[0].Home).Output()
	if err != nil {
		t.Fatalf("inferd add: %v", err)
	}
	cid := strings.TrimSpace(string(out))
	tn.startAll()
	api := tn.info.Nodes[0].API
	waitHeight(t, api, 2, 60*time.Second)

	resp, err := client.Get(api + "/ipfs/" + cid)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, model) {
		t.Fatalf("gateway: status %d, %d bytes, equal=%v", resp.StatusCode, len(got), bytes.Equal(got, model))
	}

	dst := filepath.Join(t.TempDir(), "fetched.bin")
	cmd := exec.Command(inferdBin, "fetch", cid, "--peer", tn.info.Nodes[0].P2P, "--home", t.TempDir(), "-o", dst, "--timeout", "60s")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("inferd fetch: %v\n%s", err, b)
	}
	if fetched, _ := os.ReadFile(dst); !bytes.Equal(fetched, model) {
		t.Fatal("fetched bytes differ from the model")
	}
	// And the chain kept going meanwhile.
	st, _ := statusOf(api)
	waitHeight(t, api, st.Height+2, 30*time.Second)
}
