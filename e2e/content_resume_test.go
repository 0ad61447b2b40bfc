package e2e

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var fetchReport = regexp.MustCompile(`(\d+) blocks received, (\d+) already held`)

// fetchOnce runs `inferd fetch` against peer; onProgress is called with
// each progress line on stderr. It returns the exit error, stderr, and
// the blocks received and held that the fetch reported.
func fetchOnce(t *testing.T, args []string, onProgress func(string)) (string, int, int, error) {
	t.Helper()
	cmd := exec.Command(inferdBin, args...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		line := sc.Text()
		all.WriteString(line + "\n")
		if strings.HasPrefix(line, "fetch: ") && onProgress != nil {
			onProgress(line)
		}
	}
	io.Copy(io.Discard, pipe)
	err = cmd.Wait()
	m := fetchReport.FindStringSubmatch(all.String())
	if m == nil {
		return all.String(), -1, -1, err
	}
	rec, _ := strconv.Atoi(m[1])
	held, _ := strconv.Atoi(m[2])
	return all.String(), rec, held, err
}

// Issue 5: a 64 MiB file added on node A is fetched by B byte for byte; A
// is killed (SIGKILL) partway (past 30%) and restarted, and the fetch completes
// without fetching again the blocks B already had.
func TestContentFetchResumesAfterKill(t *testing.T) {
	skipShort(t)
	tn := newNet(t, 1, 200*time.Millisecond)
	nd := tn.info.Nodes[0]
	model := make([]byte, 64<<20)
	rand.Read(model)
	file := filepath.Join(t.TempDir(), "model.bin")
	if err := os.WriteFile(file, model, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(inferdBin, "add", file, "--home", nd.Home).Output()
	if err != nil {
		t.Fatalf("inferd add: %v", err)
	}
	cid := strings.TrimSpace(string(out))
	const blocks = 256 + 3 // leaves, two inner nodes, the root
	tn.startAll()
	waitHeight(t, nd.API, 1, 60*time.Second)

	homeB := t.TempDir()
	dst := filepath.Join(t.TempDir(), "fetched.bin")
	args := []string{"fetch", cid, "--peer", nd.P2P, "--home", homeB, "-o", dst, "--timeout", "5s"}
	killed := false
	// Killed at the first line past 30%: up to about 20 MiB more may
	// already be on its way (bitswap's queue, yamux's window, socket
	// buffers), and the test must see a fetch that did not complete.
	halfway := regexp.MustCompile(`\(([3-9]\d)%\)`)
	stderr1, rec1, held1, err := fetchOnce(t, args, func(line string) {
		if !killed && halfway.MatchString(line) {
			killed = true
			tn.procs[0].kill(syscall.SIGKILL)
			t.Logf("killed A at %q", line)
		}
	})
	if !killed {
		t.Fatalf("the fetch printed no progress line past 30%% before it ended (%v):\n%s", err, stderr1)
	}
	if err == nil {
		t.Fatalf("the fetch completed although A was killed past 30%% of it:\n%s", stderr1)
	}
	if !strings.Contains(stderr1, "timed out") || !strings.Contains(stderr1, "run the same command again to resume") || rec1 <= 0 || rec1 >= blocks || held1 != 0 {
		t.Fatalf("first pass: received %d, held %d:\n%s", rec1, held1, stderr1)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Fatal("a partial output file was left after the failed fetch")
	}
	if ents, _ := os.ReadDir(filepath.Dir(dst)); len(ents) != 0 {
		t.Fatalf("left beside the output: %v", ents)
	}

	// A restarts over the store it had when killed.
	tn.procs[0] = tn.start(0)
	waitHeight(t, nd.API, 2, 60*time.Second)
	args[len(args)-1] = "60s"
	stderr2, rec2, held2, err := fetchOnce(t, args, nil)
	if err != nil {
		t.Fatalf("second pass: %v\n%s", err, stderr2)
	}
	if held2 != rec1 || rec2 != blocks-rec1 {
		t.Errorf("second pass: received %d, held %d; want held %d (what the first pass received) and received only the %d missing:\n%s",
			rec2, held2, rec1, blocks-rec1, stderr2)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, model) {
		t.Fatal("the resumed fetch wrote other bytes than the 64 MiB added on A")
	}
	t.Logf("first pass received %d of %d blocks before A was killed; the second received %d", rec1, blocks, rec2)
}

// The content commands go through a running node with --node; without
// it they say which --node to pass.
func TestContentThroughRunningNode(t *testing.T) {
	skipShort(t)
	tn := newNet(t, 1, 200*time.Millisecond)
	nd := tn.info.Nodes[0]
	tn.startAll()
	waitHeight(t, nd.API, 1, 60*time.Second)
	run := func(args ...string) (string, string, error) {
		var o, e bytes.Buffer
		cmd := exec.Command(inferdBin, args...)
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		return o.String(), e.String(), err
	}
	data := make([]byte, 3<<20)
	rand.Read(data)
	file := filepath.Join(t.TempDir(), "data.bin")
	os.WriteFile(file, data, 0o644)

	_, errOut, err := run("add", file, "--home", nd.Home)
	if want := fmt.Sprintf("the store is in use by a running node; pass --node %s", nd.API); err == nil || !strings.Contains(errOut, want) {
		t.Fatalf("add with the node running: %v %q, want %q", err, errOut, want)
	}
	out, errOut, err := run("add", file, "--node", nd.API)
	if err != nil {
		t.Fatalf("add --node: %v %s", err, errOut)
	}
	cid := strings.TrimSpace(out)
	if want, _, _ := run("add", file, "--only-hash"); strings.TrimSpace(want) != cid {
		t.Fatalf("add --node printed %s, --only-hash %s", cid, want)
	}
	if out, _, _ := run("pin", "ls", "--node", nd.API); strings.TrimSpace(out) != cid {
		t.Errorf("pin ls --node: %q", out)
	}
	if out, _, err := run("cat", cid, "--node", nd.API); err != nil || out != string(data) {
		t.Errorf("cat --node: %v, %d bytes", err, len(out))
	}
	// The gateway serves it too.
	resp, err := client.Get(nd.API + "/ipfs/" + cid)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, data) {
		t.Fatal("gateway bytes differ")
	}
	if _, errOut, err := run("pin", "rm", cid, "--node", nd.API); err != nil {
		t.Fatalf("pin rm --node: %v %s", err, errOut)
	}
	if out, errOut, err := run("gc", "--node", nd.API); err != nil || !strings.HasPrefix(out, "removed 13 blocks") {
		t.Errorf("gc --node: %v %q %q", err, out, errOut)
	}
}
