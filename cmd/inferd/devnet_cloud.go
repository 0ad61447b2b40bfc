package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/inferd/inferd/compute/container"
	"github.com/inferd/inferd/compute/jobspec"
	"github.com/inferd/inferd/compute/serve"
	"github.com/inferd/inferd/compute/serveimage"
	contestdemo "github.com/inferd/inferd/contest/demo"
	"github.com/inferd/inferd/contest/eval/mlp"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/node"
	"github.com/inferd/inferd/node/api"
	"github.com/inferd/inferd/p2p/forward"
)

// The demo's lease and batch job: what they cost. The providers' lease
// price (--provider.lease-price) is demoLeasePrice; the user offers it.
const (
	demoLeasePrice  = 100  // uinf per block
	demoLeaseBlocks = 2000 // about a quarter of an hour of blocks at most
	demoBatchPrice  = 5_000
)

// demoCloud is the state of the demo's container part, set before the
// nodes start: the inference server's image in node0's store, or why the
// part is skipped.
type demoCloud struct {
	image cid.Cid
	skip  string
}

// prepareCloud builds the inferd-serve image (compute/serveimage) and
// adds its archive with add, unless this machine cannot run containers or
// the devnet has no provider; skip then says why in one line.
func prepareCloud(ctx context.Context, dir string, providers int, add func([]byte) (cid.Cid, error)) demoCloud {
	if providers == 0 {
		return demoCloud{skip: "no provider (--providers 0): skipping the container lease and batch job"}
	}
	if err := containerRuntimeWorks(ctx); err != nil {
		return demoCloud{skip: fmt.Sprintf("no container runtime here (%v): skipping the container lease and batch job; the rest plays on", err)}
	}
	cache := filepath.Join(dir, "cache")
	bin, err := serveimage.Binary(ctx, cache)
	if err != nil {
		return demoCloud{skip: fmt.Sprintf("cannot build the inference server (%v): skipping the container lease and batch job", err)}
	}
	arch, err := serveimage.WriteArchive(bin, cache)
	if err != nil {
		return demoCloud{skip: fmt.Sprintf("cannot build the inference server's image (%v): skipping the container lease and batch job", err)}
	}
	b, err := os.ReadFile(arch)
	if err == nil {
		var c cid.Cid
		if c, err = add(b); err == nil {
			return demoCloud{image: c}
		}
	}
	return demoCloud{skip: fmt.Sprintf("cannot add the inference server's image (%v): skipping the container lease and batch job", err)}
}

// containerRuntimeWorks is what a provider needs to run the demo's
// containers: podman and runc installed, and podman able to run here (as
// root: the provider's limits need cgroups).
func containerRuntimeWorks(ctx context.Context) error {
	if _, err := container.New(container.Config{}); err != nil {
		return err
	}
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(c, "podman", "--runtime", "/usr/sbin/runc", "info", "--format", "{{.Host.OCIRuntime.Name}}").CombinedOutput(); err != nil {
		return fmt.Errorf("podman info: %v: %s", err, lastLineOf(out))
	}
	return nil
}

func lastLineOf(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// playCloud serves the contest's winning model as a lease, forwards a
// local port to it over libp2p, prints a prediction, and runs one batch
// job predicting the whole dataset.
func playCloud(ctx context.Context, dir string, info *node.DevnetInfo, cl *api.Client, user *keySender, f *demoFiles, winner string, say func(string, ...any)) error {
	if f.cloud.skip != "" {
		say("%s", f.cloud.skip)
		return nil
	}
	img := f.cloud.image.String()
	svc := serveimage.ServiceJob(img, winner, demoLeaseBlocks, demoLeasePrice)
	lease, err := submitContainer(ctx, cl, user, svc)
	if err != nil {
		return fmt.Errorf("submit the lease: %v", err)
	}
	say("submitted lease %d: image %s (inferd-serve, built here into an OCI archive) serving the winning model %s; watch: inferd query job %d --node %s", lease, img, winner, lease, info.Nodes[0].API)
	batch, err := submitContainer(ctx, cl, user, serveimage.BatchJob(img, winner, f.dataset.String(), demoBatchPrice))
	if err != nil {
		return fmt.Errorf("submit the batch job: %v", err)
	}
	say("submitted batch container job %d: the same image predicts every point of the dataset %s", batch, f.dataset)
	go reportBatch(ctx, cl, batch, info.Nodes[0].API, say)

	j, err := waitJob(ctx, cl, lease, 4*time.Minute, func(j compute.Job) bool { return j.Status != compute.JobOpen && j.Status != compute.JobAssigned })
	if err != nil {
		return fmt.Errorf("lease %d did not start: %v", lease, err)
	}
	if j.Status != compute.JobRunning {
		return fmt.Errorf("lease %d ended %s before serving (%s%s); see the provider's node.log", lease, j.Status, j.Error, failureNote(j))
	}
	url, err := forwardLease(ctx, cl, user, lease)
	if err != nil {
		return fmt.Errorf("forward lease %d: %v", lease, err)
	}
	say("lease %d runs on %s at %d uinf a block; forwarded here at %s (or: inferd lease forward %d --listen 127.0.0.1:8080 --from %s --home %s --keyring-backend test --node %s)",
		lease, j.Provider, j.Lease.PricePerBlock, url, lease, info.BuilderKey, dir, info.Nodes[0].API)
	return demoPredict(ctx, url, say)
}

// submitContainer sends a job/submit_container for s and returns the id
// of the job it made (the sender's newest job of that kind).
func submitContainer(ctx context.Context, cl *api.Client, s *keySender, spec *jobspec.Spec) (uint64, error) {
	enc, err := jobspec.Encode(spec)
	if err != nil {
		return 0, err
	}
	if _, err := s.send(ctx, ledger.NewMsg(compute.MsgTypeJobSubmitContainer, compute.MsgJobSubmitContainer{Spec: enc})); err != nil {
		return 0, err
	}
	var id uint64
	err = poll(ctx, 30*time.Second, func() (bool, error) {
		js, err := cl.Jobs(ctx, "", api.Latest)
		if err != nil {
			return false, err
		}
		for _, j := range js.Jobs {
			if j.User == s.addr && j.Kind == spec.Kind && j.ID > id {
				id = j.ID
			}
		}
		return id != 0, nil
	})
	return id, err
}

func waitJob(ctx context.Context, cl *api.Client, id uint64, timeout time.Duration, done func(compute.Job) bool) (compute.Job, error) {
	var j api.JobResponse
	err := poll(ctx, timeout, func() (bool, error) {
		var err error
		j, err = cl.Job(ctx, id, api.Latest)
		return err == nil && done(j.Job), nil
	})
	return j.Job, err
}

// forwardLease listens on a free loopback port and forwards it to the
// lease over libp2p, as `inferd lease forward` does, for as long as the
// demo runs; it returns the local URL.
func forwardLease(ctx context.Context, cl *api.Client, s *keySender, lease uint64) (string, error) {
	h, err := nodePeerHost(ctx, cl)
	if err != nil {
		return "", err
	}
	fc := forward.NewClient(h, s.chainID, s.priv)
	prov, err := findProvider(ctx, cl, fc, lease, keys.Address{})
	if err != nil {
		h.Close()
		return "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.Close()
		return "", err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	go func() {
		defer h.Close()
		fc.Serve(ctx, ln, prov, lease, log)
	}()
	go func() { <-ctx.Done(); ln.Close() }()
	return "http://" + ln.Addr().String(), nil
}

// demoPredict asks the forwarded server for the class of the dataset's
// first point, retrying while the lease's container warms up.
func demoPredict(ctx context.Context, url string, say func(string, ...any)) error {
	d, err := mlp.ParseDataset(contestdemo.Dataset(demoSeed))
	if err != nil {
		return err
	}
	x, label := d.Row(0), d.Y[0]
	body, _ := json.Marshal(serve.PredictRequest{Features: x})
	var pr serve.PredictResponse
	var last error
	err = poll(ctx, time.Minute, func() (bool, error) {
		resp, err := http.Post(url+"/v1/predict", "application/json", bytes.NewReader(body))
		if err != nil {
			last = err
			return false, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode != http.StatusOK {
			last = fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
			return false, nil
		}
		return true, json.Unmarshal(b, &pr)
	})
	if err != nil {
		return fmt.Errorf("predict through the lease: %v (last: %v)", err, last)
	}
	scores := make([]string, len(pr.Scores))
	for i, s := range pr.Scores {
		scores[i] = fmt.Sprintf("%.3f", s)
	}
	say("prediction from model %s through the lease: point (%g, %g) labelled %g is class %d (scores %s); try: curl -d '{\"features\": [0, 2]}' %s/v1/predict",
		pr.Model, x[0], x[1], label, pr.Class, strings.Join(scores, ", "), url)
	return nil
}

// reportBatch says how the demo's batch container job ended.
func reportBatch(ctx context.Context, cl *api.Client, id uint64, apiURL string, say func(string, ...any)) {
	j, err := waitJob(ctx, cl, id, 4*time.Minute, func(j compute.Job) bool {
		return j.Status != compute.JobOpen && j.Status != compute.JobAssigned && j.Status != compute.JobRunning
	})
	switch {
	case ctx.Err() != nil:
	case err != nil:
		say("batch job %d did not finish: %v", id, err)
	case j.Status == compute.JobDone:
		say("batch job %d done by %s: outputs %s (inferd job get %d -o DIR --node %s)%s; %d uinf burned, %d refunded",
			id, j.Provider, j.Outputs, id, apiURL, batchLogLine(ctx, cl, j.Logs), j.Charged, j.Refunded)
	default:
		say("batch job %d ended %s%s%s (inferd job logs %d --node %s)", id, j.Status, failureNote(j), logTail(ctx, cl, j.Logs, "inferd:"), id, apiURL)
	}
}

// batchLogLine is the batch job's summary line from its logs.
func batchLogLine(ctx context.Context, cl *api.Client, logs string) string {
	return logTail(ctx, cl, logs, "rows predicted")
}

// logTail is "; its log: LINE" for the last line of the logs with CID
// logs that holds mark, if the node can fetch them; else "".
func logTail(ctx context.Context, cl *api.Client, logs, mark string) string {
	if logs == "" {
		return ""
	}
	if _, err := cl.ContentFetch(ctx, logs, 30*time.Second, false, nil); err != nil {
		return ""
	}
	rd, _, err := cl.ContentGet(ctx, logs)
	if err != nil {
		return ""
	}
	defer rd.Close()
	b, _ := io.ReadAll(io.LimitReader(rd, 64<<10))
	line := ""
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, mark) {
			line = "; its log: " + strings.TrimSpace(l)
		}
	}
	return line
}
