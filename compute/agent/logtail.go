package agent

import (
	"context"
	"io"
	"sync"
)

// logTail keeps the last max bytes of a running job's output and lets
// readers follow it: a reader starts at the oldest byte kept and blocks
// for more until the job ends. Writes never block (a slow reader skips
// what fell out of the window).
type logTail struct {
	mu      sync.Mutex
	max     int
	buf     []byte
	total   int64 // bytes written so far; buf holds the last len(buf)
	done    bool
	changed chan struct{}
}

func newLogTail(max int) *logTail { return &logTail{max: max, changed: make(chan struct{})} }

func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	if over := len(l.buf) - l.max; over > 0 {
		l.buf = append(l.buf[:0], l.buf[over:]...)
	}
	l.total += int64(len(p))
	close(l.changed)
	l.changed = make(chan struct{})
	return len(p), nil
}

// close marks the end: readers get io.EOF after the last byte.
func (l *logTail) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.done = true
		close(l.changed)
	}
}

// reader follows the tail until the job ends or ctx does.
func (l *logTail) reader(ctx context.Context) io.ReadCloser {
	l.mu.Lock()
	pos := l.total - int64(len(l.buf))
	l.mu.Unlock()
	return &tailReader{l: l, ctx: ctx, pos: pos}
}

type tailReader struct {
	l   *logTail
	ctx context.Context
	pos int64
}

func (r *tailReader) Read(p []byte) (int, error) {
	for {
		l := r.l
		l.mu.Lock()
		start := l.total - int64(len(l.buf))
		if r.pos < start {
			r.pos = start // fell behind: skip what was dropped
		}
		if r.pos < l.total {
			n := copy(p, l.buf[r.pos-start:])
			r.pos += int64(n)
			l.mu.Unlock()
			return n, nil
		}
		if l.done {
			l.mu.Unlock()
			return 0, io.EOF
		}
		ch := l.changed
		l.mu.Unlock()
		select {
		case <-ch:
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		}
	}
}

func (r *tailReader) Close() error { return nil }
