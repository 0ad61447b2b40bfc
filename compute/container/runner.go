package container

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/inferd/inferd/compute/jobspec"
)

// Config of a Runner. Zero fields take the documented defaults.
type Config struct {
	// Podman is the podman binary (default "podman" on PATH).
	Podman string
	// Runtime is the OCI runtime podman uses (default /usr/sbin/runc; crun
	// fails on hosts with hybrid cgroups, see docs/cloud.md).
	Runtime string
	// Root and RunRoot, when set, are podman's storage and state
	// directories (--root, --runroot), keeping the jobs' images and
	// containers apart from other podman users of the machine.
	Root, RunRoot string
	// AllowNetwork lets jobs whose spec sets network = true reach the
	// network; otherwise such jobs are refused. Default false.
	AllowNetwork bool
	// GPUDevices are the CDI device names given to jobs that need GPUs
	// (e.g. "nvidia.com/gpu=all"). Jobs needing GPUs are refused when empty.
	GPUDevices []string
	// PidsLimit caps the processes of one job (default 256).
	PidsLimit int
	// Nofile is the open files limit in a job (default 1024).
	Nofile int
	// Nproc is RLIMIT_NPROC in a job (default 4096). It counts per user id
	// across the host, so the pids limit is the real cap.
	Nproc int
	// TmpBytes is the size of the job's tmpfs /tmp (default 64 MiB).
	TmpBytes uint64
	// MaxOutputBytes caps the job's output directory (default 1 GiB).
	MaxOutputBytes int64
	// MaxLogBytes caps the logs kept of a job's stdout and stderr (default
	// 64 KiB; the rest is counted and dropped).
	MaxLogBytes int
}

func (c Config) withDefaults() Config {
	if c.Podman == "" {
		c.Podman = "podman"
	}
	if c.Runtime == "" {
		c.Runtime = "/usr/sbin/runc"
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.PidsLimit, 256)
	def(&c.Nofile, 1024)
	def(&c.Nproc, 4096)
	def(&c.MaxLogBytes, 64<<10)
	if c.TmpBytes == 0 {
		c.TmpBytes = 64 << 20
	}
	if c.MaxOutputBytes <= 0 {
		c.MaxOutputBytes = 1 << 30
	}
	return c
}

// outputPoll is how often a running job's output directory is measured.
const outputPoll = 500 * time.Millisecond

// Runner runs jobs' containers through the podman CLI.
type Runner struct {
	cfg   Config
	loads *sync.Mutex // serialises LoadArchive and RemoveImage
}

// ErrNoRuntime: podman or the OCI runtime is missing.
var ErrNoRuntime = errors.New("container runtime missing; install it with `apt-get install -y podman runc` (see docs/cloud.md)")

// New checks that podman and the runtime are installed and returns a Runner.
func New(cfg Config) (*Runner, error) {
	cfg = cfg.withDefaults()
	p, err := exec.LookPath(cfg.Podman)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNoRuntime, cfg.Podman, err)
	}
	cfg.Podman = p
	if _, err := os.Stat(cfg.Runtime); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoRuntime, err)
	}
	return &Runner{cfg: cfg, loads: new(sync.Mutex)}, nil
}

func (r *Runner) globalArgs() []string {
	a := []string{"--runtime", r.cfg.Runtime}
	if r.cfg.Root != "" {
		a = append(a, "--root", r.cfg.Root)
	}
	if r.cfg.RunRoot != "" {
		a = append(a, "--runroot", r.cfg.RunRoot)
	}
	return a
}

// podman runs a short podman command and returns its stdout.
func (r *Runner) podman(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, r.cfg.Podman, append(r.globalArgs(), args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("podman %s: %v: %s", args[0], err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// Job is one run of a spec.
type Job struct {
	Spec *jobspec.Spec
	// Image is the local image name (from LoadArchive, or a spec's pinned
	// reference already in the runner's storage). Nothing is pulled.
	Image string
	// Inputs maps each of the spec's input paths to the host file or
	// directory the provider fetched for it.
	Inputs map[string]string
	// OutputDir is an empty host directory the job writes as /out.
	OutputDir string
	// LiveLogs, when set, also receives the job's stdout and stderr as
	// they are written (its owner's live view); it must not block.
	LiveLogs io.Writer
}

// Run runs the job to its end and always removes its container. The error
// is for what stops the job from starting (a refused spec, a missing input,
// podman failing); how the job ended is in the Result.
func (r *Runner) Run(ctx context.Context, j Job) (*Result, error) {
	if j.Spec != nil && j.Spec.Kind == jobspec.KindService {
		return nil, errors.New("container: a service job runs with StartService, not Run")
	}
	args, name, err := r.runArgs(j, "")
	if err != nil {
		return nil, err
	}
	limit := time.Duration(j.Spec.TimeLimit) * time.Second
	if j.Spec.Kind == jobspec.KindService || limit == 0 {
		limit = time.Duration(jobspec.MaxTimeLimit) * time.Second
	}
	runCtx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	// Cleanup uses its own context: it must run even when ctx is done.
	defer func() {
		c, done := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer done()
		r.podman(c, "rm", "-f", "-t", "0", "--ignore", name)
	}()

	logs := &boundedBuffer{max: r.cfg.MaxLogBytes}
	cmd := exec.Command(r.cfg.Podman, append(r.globalArgs(), args...)...)
	var out io.Writer = logs
	if j.LiveLogs != nil {
		out = io.MultiWriter(logs, j.LiveLogs)
	}
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("container: start podman: %w", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	var runErr error
	exited, timedOut, tooLarge := false, false, false
	watch := time.NewTicker(outputPoll)
	defer watch.Stop()
wait:
	for {
		select {
		case runErr = <-waited:
			exited = true
			break wait
		case <-watch.C:
			// The output directory is checked while the job runs too, so a
			// job cannot fill the provider's disk before it exits.
			if _, err := dirSize(j.OutputDir, r.cfg.MaxOutputBytes); err != nil {
				tooLarge = true
				cancel()
			}
		case <-runCtx.Done():
			break wait
		}
	}
	if !exited {
		timedOut = runCtx.Err() == context.DeadlineExceeded
		c, done := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		r.podman(c, "rm", "-f", "-t", "0", "--ignore", name)
		done()
		select {
		case runErr = <-waited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			runErr = <-waited
		}
	}
	res := &Result{Name: name, Duration: time.Since(start), ExitCode: -1}
	res.Logs, res.LogsDropped = logs.bytes()
	if tooLarge {
		res.OutputBytes, _ = dirSize(j.OutputDir, 1<<62)
		res.fail(FailOutputTooLarge, "the output directory passed the cap of %d bytes while the job ran; it was killed; write less to /out", r.cfg.MaxOutputBytes)
		return res, nil
	}
	if ctx.Err() != nil && !timedOut {
		return nil, ctx.Err()
	}
	if timedOut {
		res.fail(FailTimeLimit, "the job ran past its time limit of %s and was killed", limit)
		return res, nil
	}
	var ee *exec.ExitError
	if runErr != nil && !errors.As(runErr, &ee) {
		return nil, fmt.Errorf("container: podman run: %w", runErr)
	}
	res.ExitCode = cmd.ProcessState.ExitCode()
	oom := false
	if st, err := r.inspect(context.WithoutCancel(ctx), name); err == nil {
		res.ExitCode, oom = st.ExitCode, st.OOMKilled
	} else if res.ExitCode == 125 || res.ExitCode == 126 || res.ExitCode == 127 {
		// podman's own failures (no container was made or it could not
		// start the command): report them as such.
		return nil, fmt.Errorf("container: podman run exited %d: %s", res.ExitCode, lastLine(res.Logs))
	}
	r.classify(res, oom, j)
	return res, nil
}

type state struct {
	ExitCode  int
	OOMKilled bool
}

func (r *Runner) inspect(ctx context.Context, name string) (state, error) {
	out, err := r.podman(ctx, "inspect", "--format", "{{json .State}}", name)
	if err != nil {
		return state{}, err
	}
	var st state
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &st); err != nil {
		return state{}, fmt.Errorf("podman inspect: %v", err)
	}
	return st, nil
}

func (r *Runner) classify(res *Result, oom bool, j Job) {
	mem := j.Spec.Resources.MemoryBytes
	switch {
	case oom || res.ExitCode == 137:
		res.fail(FailOOM, "killed (exit %d, SIGKILL) with a memory limit of %d bytes: out of memory; ask for more resources.memory", res.ExitCode, mem)
		return
	case res.ExitCode != 0 && pidsExhausted(res.Logs):
		res.fail(FailPidsLimit, "exit %d after failing to start processes: the pids limit of %d was reached", res.ExitCode, r.cfg.PidsLimit)
		return
	case res.ExitCode != 0:
		res.fail(FailExit, "the job exited with code %d: %s", res.ExitCode, lastLine(res.Logs))
		return
	}
	n, err := dirSize(j.OutputDir, r.cfg.MaxOutputBytes)
	res.OutputBytes = n
	if err != nil {
		res.fail(FailOutputTooLarge, "%v", err)
		return
	}
	for _, o := range j.Spec.Outputs {
		host := filepath.Join(j.OutputDir, strings.TrimPrefix(o, jobspec.OutputDir+"/"))
		if _, err := os.Lstat(host); err != nil {
			res.fail(FailMissingOutput, "the job exited 0 but did not write its output %s", o)
			return
		}
		// A symlink in an output could point at the provider's files when
		// the output is published: outputs are regular files and dirs only.
		if bad := special(host); bad != "" {
			rel, _ := filepath.Rel(j.OutputDir, bad)
			res.fail(FailBadOutput, "output %s holds %s, a symlink or special file; outputs must be regular files and directories", o, path.Join(jobspec.OutputDir, filepath.ToSlash(rel)))
			return
		}
		res.Outputs = append(res.Outputs, host)
	}
}

func pidsExhausted(logs []byte) bool {
	for _, s := range []string{"can't fork", "Resource temporarily unavailable", "fork: retry"} {
		if bytes.Contains(logs, []byte(s)) {
			return true
		}
	}
	return false
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	l := lines[len(lines)-1]
	if len(l) > 200 {
		l = l[:200] + "..."
	}
	if l == "" {
		return "(no output)"
	}
	return l
}

func newName() string {
	var b [8]byte
	rand.Read(b[:])
	return "inferd-job-" + hex.EncodeToString(b[:])
}

// runArgs builds the podman run command line of a job, refusing what the
// provider does not offer. network is the podman network of a service
// ("" for a batch job).
func (r *Runner) runArgs(j Job, network string) ([]string, string, error) {
	s := j.Spec
	if s == nil {
		return nil, "", errors.New("container: job has no spec")
	}
	if err := s.Validate(); err != nil {
		return nil, "", fmt.Errorf("container: %w", err)
	}
	service := s.Kind == jobspec.KindService
	if j.Image == "" {
		return nil, "", errors.New("container: job has no image; load the archive with LoadArchive first")
	}
	if service && j.OutputDir == "" {
		return nil, "", errors.New("container: a service needs a scratch directory as its /out")
	}
	if err := hostPathOK("output directory", j.OutputDir, true); err != nil {
		return nil, "", err
	}
	name := newName()
	a := []string{"run", "--name", name, "--pull", "never", "--log-driver", "none",
		"--label", "inferd.job=1", "--hostname", "job"}
	if service {
		// Detached; its logs are kept by podman (bounded) for `job logs`.
		name = "inferd-lease-" + strings.TrimPrefix(name, "inferd-job-")
		a = []string{"run", "-d", "--name", name, "--pull", "never",
			"--log-driver", "k8s-file", "--log-opt", fmt.Sprintf("max-size=%d", r.cfg.MaxLogBytes*16),
			"--label", "inferd.lease=1", "--hostname", "service", "--network", network}
	}
	a = append(a,
		"--read-only", "--read-only-tmpfs=false",
		"--tmpfs", fmt.Sprintf("/tmp:rw,nosuid,nodev,size=%d,mode=1777", r.cfg.TmpBytes),
		"--cap-drop", "ALL", "--security-opt", "no-new-privileges",
		"--pids-limit", strconv.Itoa(r.cfg.PidsLimit),
		"--ulimit", fmt.Sprintf("nofile=%d:%d", r.cfg.Nofile, r.cfg.Nofile),
		"--ulimit", fmt.Sprintf("nproc=%d:%d", r.cfg.Nproc, r.cfg.Nproc),
		"--memory", strconv.FormatUint(s.Resources.MemoryBytes, 10)+"b",
		"--memory-swap", strconv.FormatUint(s.Resources.MemoryBytes, 10)+"b",
		"--cpus", fmt.Sprintf("%d.%03d", s.Resources.MilliCPU/1000, s.Resources.MilliCPU%1000),
		"--mount", "type=bind,src="+j.OutputDir+",dst="+jobspec.OutputDir,
	)
	if s.Network {
		if !r.cfg.AllowNetwork {
			return nil, "", errors.New("container: the job asks for network = true; this provider does not allow network access")
		}
	} else if !service {
		a = append(a, "--network", "none")
	}
	if g := s.Resources.GPU; g != nil {
		if len(r.cfg.GPUDevices) == 0 {
			return nil, "", fmt.Errorf("container: the job needs %d GPU(s); this provider has no GPU devices configured", g.Count)
		}
		for _, d := range r.cfg.GPUDevices {
			a = append(a, "--device", d)
		}
	}
	for _, in := range s.Inputs {
		host, ok := j.Inputs[in.Path]
		if !ok {
			return nil, "", fmt.Errorf("container: input %s (%s) was not fetched", in.Path, in.CID)
		}
		if err := hostPathOK("input "+in.Path, host, false); err != nil {
			return nil, "", err
		}
		a = append(a, "--mount", "type=bind,src="+host+",dst="+in.Path+",ro=true")
	}
	for _, k := range slices.Sorted(mapsKeys(s.Env)) {
		a = append(a, "--env", k+"="+s.Env[k])
	}
	if len(s.Command) > 0 {
		ep, _ := json.Marshal(s.Command)
		a = append(a, "--entrypoint", string(ep))
	}
	a = append(a, "--", j.Image)
	a = append(a, s.Args...)
	return a, name, nil
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// hostPathOK checks a host path given to a bind mount: absolute, present,
// and free of the characters that would change the --mount option.
func hostPathOK(what, p string, dir bool) error {
	if !filepath.IsAbs(p) || strings.ContainsAny(p, ",=:\n\x00") {
		return fmt.Errorf("container: %s %q must be an absolute path without , = or :", what, p)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("container: %s: %w", what, err)
	}
	if dir && !fi.IsDir() {
		return fmt.Errorf("container: %s %s is not a directory", what, p)
	}
	return nil
}

// boundedBuffer keeps the first max bytes written and counts the rest.
type boundedBuffer struct {
	mu      sync.Mutex
	max     int
	buf     []byte
	dropped int64
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := min(len(p), b.max-len(b.buf))
	b.buf = append(b.buf, p[:n]...)
	b.dropped += int64(len(p) - n)
	return len(p), nil
}

func (b *boundedBuffer) bytes() ([]byte, int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.buf), b.dropped
}
