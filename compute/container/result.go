package container

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"time"
)

// Failure is why a job did not succeed; FailNone when it did.
type Failure string

// Failures.
const (
	FailNone           Failure = ""
	FailExit           Failure = "non-zero exit"
	FailOOM            Failure = "out of memory"
	FailTimeLimit      Failure = "time limit"
	FailOutputTooLarge Failure = "output too large"
	FailMissingOutput  Failure = "missing output"
	FailPidsLimit      Failure = "pids limit"
	FailBadOutput      Failure = "bad output"
)

// Result of a job's run.
type Result struct {
	// Name is the container's name (unique per run; removed by now).
	Name     string
	ExitCode int // -1 when the job was killed for its time limit
	Failure  Failure
	// Reason says what happened and, where it helps, what to change.
	Reason string
	// Logs are the first Config.MaxLogBytes of stdout and stderr together;
	// LogsDropped counts the bytes after them.
	Logs        []byte
	LogsDropped int64
	Duration    time.Duration
	// OutputBytes is the size of the output directory after exit.
	OutputBytes int64
	// Outputs are the host paths of the spec's outputs, in spec order.
	Outputs []string
}

// OK reports whether the job succeeded.
func (r *Result) OK() bool { return r.Failure == FailNone }

func (r *Result) fail(f Failure, format string, a ...any) {
	r.Failure, r.Reason = f, fmt.Sprintf(format, a...)
}

// dirSize sums the sizes of regular files under dir (not following links)
// and fails as soon as the sum passes limit.
func dirSize(dir string, limit int64) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
			if n > limit {
				return fmt.Errorf("the output directory passed the cap of %d bytes; write less to /out", limit)
			}
		}
		return nil
	})
	return n, err
}

// special returns the first entry under p (p included) that is neither a
// regular file nor a directory, or "" when there is none. Links are not
// followed.
func special(p string) string {
	var bad string
	filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			bad = q
			return fs.SkipAll
		}
		if !d.Type().IsRegular() && !d.IsDir() {
			bad = q
			return fs.SkipAll
		}
		return nil
	})
	return bad
}
