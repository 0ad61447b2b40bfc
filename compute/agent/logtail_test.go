package agent

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

func TestLogTail(t *testing.T) {
	l := newLogTail(8)
	l.Write([]byte("0123456789")) // only "23456789" is kept
	r := l.reader(context.Background())
	got := make(chan string)
	go func() { b, _ := io.ReadAll(r); got <- string(b) }()
	time.Sleep(20 * time.Millisecond)
	l.Write([]byte("ab"))
	l.close()
	if s := <-got; s != "23456789ab" {
		t.Fatalf("followed %q", s)
	}
	// A reader that falls behind skips what was dropped.
	l2 := newLogTail(4)
	r2 := l2.reader(context.Background())
	l2.Write([]byte("abcdefgh"))
	l2.close()
	if b, _ := io.ReadAll(r2); string(b) != "efgh" {
		t.Fatalf("behind reader got %q", b)
	}
	// A cancelled reader returns.
	l3 := newLogTail(4)
	ctx, cancel := context.WithCancel(context.Background())
	r3 := l3.reader(ctx)
	cancel()
	if _, err := r3.Read(make([]byte, 1)); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("cancelled reader: %v", err)
	}
}
