package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/inferd/inferd/compute/container"
	"github.com/inferd/inferd/compute/jobspec"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
)

// cloudReportMargin: content that cannot be fetched is tried again every
// block until this many blocks before the job's deadline, then the job is
// reported as the provider's failure (a full refund) rather than missed.
const cloudReportMargin = 3

// RunBatch runs container batch job j to its end: the image by CID
// (cached across jobs) or by pinned ref, each input fetched and mounted
// read-only, the spec's limits; then the output directory and the logs
// are added to the content store. It returns the result to report. An
// error is transient (content not found yet, the node stopping): the job
// is tried again.
func (c *Cloud) RunBatch(ctx context.Context, j ledgercompute.Job) (ledgercompute.MsgJobContainerResult, error) {
	msg := ledgercompute.MsgJobContainerResult{Job: j.ID, ExitCode: -1}
	spec, err := jobspec.Decode(j.Spec)
	if err != nil {
		msg.Failure = ledgercompute.FailImageInvalid // the ledger checked it; cannot happen
		return msg, nil
	}
	dir, err := c.jobDir(j.ID)
	if err != nil {
		return msg, err
	}
	defer os.RemoveAll(dir)
	var logs []byte
	live := newLogTail(64 << 10)
	c.mu.Lock()
	c.live[j.ID] = live
	c.mu.Unlock()
	res, err := c.runBatch(ctx, spec, dir, live)
	live.close()
	defer func() {
		c.mu.Lock()
		delete(c.live, j.ID)
		c.mu.Unlock()
	}()
	var f *failure
	switch {
	case errors.As(err, &f):
		msg.Failure = f.class
		logs = fmt.Appendf(nil, "inferd: the job did not run: %s\n", f.reason)
	case errors.Is(err, errUnavailable) && c.h.LatestHeight()+cloudReportMargin < j.Deadline:
		return msg, err // tried again next block
	case err != nil && ctx.Err() != nil:
		return msg, err
	case err != nil:
		msg.Failure = ledgercompute.FailProviderError
		logs = fmt.Appendf(nil, "inferd: the provider could not run the job: %v\n", err)
	default:
		msg.Failure, msg.ExitCode = failureClass(res), int64(res.ExitCode)
		if msg.Failure == ledgercompute.FailExitNonzero && msg.ExitCode == 0 {
			msg.ExitCode = 1 // a pids or output failure after exit 0
		}
		logs = res.Logs
		if res.LogsDropped > 0 {
			logs = fmt.Appendf(logs, "\ninferd: %d more bytes of logs were dropped\n", res.LogsDropped)
		}
		if !res.OK() {
			logs = fmt.Appendf(logs, "\ninferd: job failed (%s): %s\n", res.Failure, res.Reason)
		}
	}
	if res != nil && res.OK() {
		out, err := c.cfg.Files.AddPath(ctx, filepath.Join(dir, "out"))
		if err != nil {
			return msg, fmt.Errorf("add outputs: %w", err)
		}
		msg.Outputs = out.String()
	}
	if len(logs) > 0 {
		p := filepath.Join(dir, "logs.txt")
		if err := os.WriteFile(p, logs, 0o644); err == nil {
			if l, err := c.cfg.Files.AddPath(ctx, p); err == nil {
				msg.Logs = l.String()
			}
		}
	}
	return msg, nil
}

func (c *Cloud) runBatch(ctx context.Context, spec *jobspec.Spec, dir string, live *logTail) (*container.Result, error) {
	img, err := c.image(ctx, spec)
	if err != nil {
		return nil, err
	}
	in, err := c.inputs(ctx, spec, dir)
	if err != nil {
		return nil, err
	}
	return c.cfg.Runner.Run(ctx, container.Job{Spec: spec, Image: img, Inputs: in, OutputDir: filepath.Join(dir, "out"), LiveLogs: live})
}

// failureClass maps the runner's failure kinds onto the ledger's classes.
// A missing or bad output is the job's doing, as an exit code is.
func failureClass(r *container.Result) string {
	switch r.Failure {
	case container.FailNone:
		return ledgercompute.FailNone
	case container.FailOOM:
		return ledgercompute.FailOOM
	case container.FailTimeLimit:
		return ledgercompute.FailTimeLimit
	case container.FailOutputTooLarge:
		return ledgercompute.FailOutputLimit
	}
	return ledgercompute.FailExitNonzero // non-zero exit, pids limit, missing or bad output
}
