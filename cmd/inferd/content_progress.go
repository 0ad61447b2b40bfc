package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows how far a transfer is: a bar with bytes, rate and ETA
// when stderr is a terminal, otherwise a plain line every 10% or every
// 5 s, whichever comes first.
type progress struct {
	verb  string
	start time.Time
	bar   *progressbar.ProgressBar // nil: plain lines
	w     io.Writer
	total int64
	done  int64
	// plain lines
	lastAt   time.Time
	lastTen  int64
	finished bool
}

// plainEvery is the longest a plain-line progress stays silent.
const plainEvery = 5 * time.Second

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newProgress starts a progress for verb ("fetch", "add") of total bytes
// (0 if not known yet: Set may give it later).
func newProgress(verb string, total int64) *progress {
	p := &progress{verb: verb, start: time.Now(), w: stderr, total: total, lastAt: time.Now()}
	if isTerminal(stderr) {
		max := total
		if max <= 0 {
			max = -1 // a spinner until the size is known
		}
		p.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription(verb),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowTotalBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionUseIECUnits(true),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(stderr) }),
		)
	}
	return p
}

// Set records done of total bytes (total 0: unchanged).
func (p *progress) Set(done, total int64) {
	if p.finished {
		return
	}
	if total > 0 && total != p.total {
		p.total = total
		if p.bar != nil {
			p.bar.ChangeMax64(total)
		}
	}
	p.done = done
	if p.bar != nil {
		p.bar.Set64(done)
		return
	}
	now := time.Now()
	tenth := int64(0)
	if p.total > 0 {
		tenth = done * 10 / p.total
	}
	if tenth > p.lastTen || now.Sub(p.lastAt) >= plainEvery {
		p.lastTen, p.lastAt = max(tenth, p.lastTen), now
		if done < p.total || p.total == 0 {
			fmt.Fprintln(p.w, p.line(now))
		}
	}
}

func (p *progress) line(now time.Time) string {
	el := now.Sub(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(p.done) / el
	}
	if p.total <= 0 {
		return fmt.Sprintf("%s: %s, %s/s", p.verb, mib(p.done), mib64(rate))
	}
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(p.total-p.done)/rate*1e9) * time.Nanosecond).Round(time.Second).String()
	}
	return fmt.Sprintf("%s: %s / %s (%d%%), %s/s, ETA %s", p.verb, mib(p.done), mib(p.total), p.done*100/p.total, mib64(rate), eta)
}

// Finish ends the bar; ok says whether the transfer completed.
func (p *progress) Finish(ok bool) {
	if p.finished {
		return
	}
	p.finished = true
	if p.bar == nil {
		return
	}
	if ok {
		p.bar.Finish()
	} else {
		p.bar.Exit()
		fmt.Fprintln(stderr)
	}
}

// summary is the last line: size, time, rate.
func (p *progress) summary(n int64) string {
	d := time.Since(p.start)
	rate := float64(n) / max(d.Seconds(), 1e-9)
	return fmt.Sprintf("%s in %s (%s/s)", mib(n), d.Round(time.Millisecond), mib64(rate))
}

func mib(n int64) string { return mib64(float64(n)) }

func mib64(n float64) string { return fmt.Sprintf("%.1f MiB", n/(1<<20)) }

// progressReader reports the bytes read through it.
type progressReader struct {
	r io.Reader
	n int64
	p *progress
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.n += int64(n)
	r.p.Set(r.n, 0)
	return n, err
}
