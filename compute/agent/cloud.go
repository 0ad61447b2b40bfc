package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/ipfs/go-cid"

	hostapi "github.com/inferd/inferd/agent"
	"github.com/inferd/inferd/compute/container"
	"github.com/inferd/inferd/compute/jobspec"
	"github.com/inferd/inferd/ledger"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
)

// Files moves whole files and directories by CID between the node's
// content store and disk (an image archive or a dataset does not fit the
// in-memory Host.Fetch).
type Files interface {
	// FetchFile fetches c (a file or a UnixFS directory) to path, which
	// must not exist.
	FetchFile(ctx context.Context, c cid.Cid, path string) error
	// AddPath adds a file or directory and pins it (outputs and logs are
	// kept for their owner).
	AddPath(ctx context.Context, path string) (cid.Cid, error)
}

// CloudConfig configures the container half of the provider agent.
type CloudConfig struct {
	Runner *container.Runner
	Files  Files
	// WorkDir holds image archives and job directories (removed after
	// each job).
	WorkDir string
	// AllowRegistry lets jobs name a registry ref (pulled by digest).
	AllowRegistry bool
	// ReadyTimeout bounds a service's start until it listens (default 2m).
	ReadyTimeout time.Duration
	// MaxJobs is how many batch jobs run at once (default 2).
	MaxJobs int
	// Resources, when set, is published on-chain (compute/set_resources)
	// once the provider is registered, and again when the ledger differs.
	Resources *ledgercompute.Resources
}

// Cloud runs the container jobs and leases assigned to the provider:
// batch jobs to exit (reporting job/container_result), services until
// their lease ends (confirming lease/start). One per provider account.
type Cloud struct {
	h   hostapi.Host
	cfg CloudConfig
	log *slog.Logger

	mu       sync.Mutex
	batches  map[uint64]bool     // started or reported, until no longer assigned
	live     map[uint64]*logTail // running batch jobs' output
	services map[uint64]*service // leases whose container runs (or starts)
	slots    chan struct{}
	images   sync.Map // CID -> *sync.Mutex: one fetch+load per image at a time
	wg       sync.WaitGroup

	published uint64 // height the offer was last checked
}

type service struct {
	svc      *container.Service // nil while starting
	health   string
	cancel   context.CancelFunc
	started  bool // lease/start sent or seen on-chain
	checking bool // a liveness check is in flight
}

// NewCloud returns the container agent of h's provider account.
func NewCloud(h hostapi.Host, cfg CloudConfig) (*Cloud, error) {
	if cfg.Runner == nil || cfg.Files == nil || cfg.WorkDir == "" {
		return nil, errors.New("cloud agent: needs a runner, the content files and a work directory")
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 2 * time.Minute
	}
	if cfg.MaxJobs <= 0 {
		cfg.MaxJobs = 2
	}
	for _, d := range []string{"images", "jobs"} {
		if err := os.MkdirAll(filepath.Join(cfg.WorkDir, d), 0o700); err != nil {
			return nil, fmt.Errorf("cloud agent: %w", err)
		}
	}
	return &Cloud{h: h, cfg: cfg, log: h.Logger().With("agent", "cloud-provider"),
		batches: map[uint64]bool{}, live: map[uint64]*logTail{}, services: map[uint64]*service{}, slots: make(chan struct{}, cfg.MaxJobs)}, nil
}

// Run acts at every committed height until ctx ends, then stops every
// service container it started.
func (c *Cloud) Run(ctx context.Context) error {
	heights, stop := c.h.Committed()
	defer stop()
	// Containers a previous run left are orphans: their leases are
	// started again below from the ledger.
	c.cfg.Runner.StopAllServices(ctx)
	defer c.cfg.Runner.Shutdown(context.Background())
	defer c.stopAll()
	c.Step(ctx, c.h.LatestHeight())
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-heights:
			c.Step(ctx, c.h.LatestHeight())
		}
	}
}

// Wait waits for the jobs in progress (after ctx of Step ended).
func (c *Cloud) Wait() { c.wg.Wait() }

func (c *Cloud) stopAll() {
	c.mu.Lock()
	svcs := c.services
	c.services = map[uint64]*service{}
	c.mu.Unlock()
	for _, s := range svcs {
		s.cancel()
		if s.svc != nil {
			s.svc.Stop(context.Background())
		}
	}
	c.wg.Wait()
}

// Target returns the address and health path of lease's container when
// this agent runs it (the lease forward server's upstream).
func (c *Cloud) Target(lease uint64) (addr, health string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.services[lease]
	if s == nil || s.svc == nil {
		return "", "", false
	}
	return s.svc.Addr, s.health, true
}

// ErrNoLiveLogs: the job does not run here now.
var ErrNoLiveLogs = errors.New("the job is not running on this provider")

// Logs follows the output of job id while it runs here: a batch job's
// stdout and stderr from the last 64 KiB on, or a service's logs. The
// reader ends when the job does or ctx ends.
func (c *Cloud) Logs(ctx context.Context, id uint64) (io.ReadCloser, error) {
	c.mu.Lock()
	l, s := c.live[id], c.services[id]
	c.mu.Unlock()
	switch {
	case l != nil:
		return l.reader(ctx), nil
	case s != nil && s.svc != nil:
		return s.svc.Follow(ctx)
	}
	return nil, ErrNoLiveLogs
}

// Step starts what was newly assigned and stops leases that ended.
func (c *Cloud) Step(ctx context.Context, height uint64) {
	c.publishResources(ctx, height)
	var jobs []ledgercompute.Job
	if err := c.h.Chain().Query(height, func(q *ledger.Context) error {
		jobs = c.h.Chain().Compute.AssignedJobs(q, c.h.Account())
		return nil
	}); err != nil {
		return
	}
	live := map[uint64]bool{}
	for _, j := range jobs {
		switch j.Kind {
		case ledgercompute.KindBatch:
			live[j.ID] = true
			c.stepBatch(ctx, j)
		case ledgercompute.KindService:
			if j.Status == ledgercompute.JobAssigned || j.Status == ledgercompute.JobRunning {
				live[j.ID] = true
				c.stepService(ctx, j, height)
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range c.batches {
		if !live[id] {
			delete(c.batches, id)
		}
	}
	for id, s := range c.services {
		if !live[id] {
			// The lease ended (duration, close, provider gone): stop it.
			delete(c.services, id)
			s.cancel()
			dir := filepath.Join(c.cfg.WorkDir, "jobs", strconv.FormatUint(id, 10))
			svc := s.svc
			go func() {
				if svc != nil {
					svc.Stop(context.Background())
					c.log.Info("lease ended; container stopped", "lease", id)
				}
				os.RemoveAll(dir)
			}()
		}
	}
}

func (c *Cloud) stepBatch(ctx context.Context, j ledgercompute.Job) {
	c.mu.Lock()
	if c.batches[j.ID] || j.Status != ledgercompute.JobAssigned {
		c.mu.Unlock()
		return
	}
	select {
	case c.slots <- struct{}{}:
	default:
		c.mu.Unlock()
		return // tried again next block
	}
	c.batches[j.ID] = true
	c.mu.Unlock()
	c.wg.Go(func() {
		defer func() { <-c.slots }()
		msg, err := c.RunBatch(ctx, j)
		if err != nil {
			c.log.Warn("container job", "id", j.ID, "err", err)
			c.forget(j.ID)
			return
		}
		if _, err := c.h.Submit(ctx, ledger.NewMsg(ledgercompute.MsgTypeJobContainerResult, msg)); err != nil {
			c.log.Warn("report container job", "id", j.ID, "err", err)
			c.forget(j.ID)
			return
		}
		c.log.Info("container job done", "id", j.ID, "failure", msg.Failure, "exit", msg.ExitCode, "outputs", msg.Outputs, "logs", msg.Logs)
	})
}

func (c *Cloud) forget(id uint64) {
	c.mu.Lock()
	delete(c.batches, id)
	c.mu.Unlock()
}

// jobDir makes a fresh directory for job id's files.
func (c *Cloud) jobDir(id uint64) (string, error) {
	dir := filepath.Join(c.cfg.WorkDir, "jobs", strconv.FormatUint(id, 10))
	os.RemoveAll(dir)
	if err := os.MkdirAll(filepath.Join(dir, "out"), 0o755); err != nil {
		return "", err
	}
	return dir, nil
}

// failure is a job outcome decided before or around the run.
type failure struct {
	class  string
	reason string
}

func (f *failure) Error() string { return f.class + ": " + f.reason }

// image makes the spec's image available and returns its local name.
func (c *Cloud) image(ctx context.Context, s *jobspec.Spec) (string, error) {
	r := c.cfg.Runner
	if s.Image.Ref != "" {
		if !c.cfg.AllowRegistry {
			return "", &failure{ledgercompute.FailImageInvalid, "this provider runs images by CID only (registry refs are not allowed)"}
		}
		name, err := r.Pull(ctx, s.Image.Ref)
		if err != nil {
			return "", &failure{ledgercompute.FailImageInvalid, err.Error()}
		}
		return name, nil
	}
	mu, _ := c.images.LoadOrStore(s.Image.CID, new(sync.Mutex))
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	// Images are cached by CID across jobs: a loaded one is not fetched.
	if name, err := r.LocalImage(ctx, s); err == nil {
		return name, nil
	}
	id, err := cid.Decode(s.Image.CID)
	if err != nil {
		return "", &failure{ledgercompute.FailImageInvalid, err.Error()}
	}
	path := filepath.Join(c.cfg.WorkDir, "images", s.Image.CID+".tar")
	os.RemoveAll(path)
	defer os.Remove(path) // podman's storage keeps the image
	if err := c.cfg.Files.FetchFile(ctx, id, path); err != nil {
		return "", fmt.Errorf("%w: image %s: %v", errUnavailable, s.Image.CID, err)
	}
	name, err := r.LoadArchive(ctx, s.Image.CID, path)
	if errors.Is(err, container.ErrNotOCIArchive) {
		return "", &failure{ledgercompute.FailImageInvalid, err.Error()}
	}
	return name, err
}

// inputs fetches each input into dir and returns the mounts.
func (c *Cloud) inputs(ctx context.Context, s *jobspec.Spec, dir string) (map[string]string, error) {
	m := map[string]string{}
	for i, in := range s.Inputs {
		id, err := cid.Decode(in.CID)
		if err != nil {
			return nil, &failure{ledgercompute.FailImageInvalid, fmt.Sprintf("inputs[%d]: %v", i, err)}
		}
		p := filepath.Join(dir, "in", strconv.Itoa(i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := c.cfg.Files.FetchFile(ctx, id, p); err != nil {
			return nil, fmt.Errorf("%w: input %s (%s): %v", errUnavailable, in.Path, in.CID, err)
		}
		m[in.Path] = p
	}
	return m, nil
}
