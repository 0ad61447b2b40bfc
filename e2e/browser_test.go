package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// browser is a headless Chromium driven over its DevTools protocol
// (chromedp), collecting every console error, uncaught exception and
// failed load of the pages it shows.
type browser struct {
	ctx    context.Context
	cancel func()
	shots  string // screenshots go here
	mu     sync.Mutex
	errs   []string
	expect []string // errors a check provoked on purpose (a 404 it asked for)
}

// findChromium returns the browser to use: $INFERD_CHROMIUM, else
// Debian's chromium (.ci/run installs it).
func findChromium() (string, error) {
	if p := os.Getenv("INFERD_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium on PATH (apt-get install chromium, or set INFERD_CHROMIUM)")
}

// newBrowser starts Chromium, or skips the test when there is none.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := findChromium()
	if err != nil {
		t.Skipf("explorer browser check skipped: %v", err)
	}
	shots, err := os.MkdirTemp("", "inferd-explorer-shots-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("explorer screenshots: %s", shots)
	// The flags that work as root in a container: no sandbox, no GPU, no
	// network of the browser's own (updates, sync, QUIC).
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &browser{ctx: ctx, shots: shots, cancel: func() { cancel(); acancel() }}
	// Listen starts the browser; the target enables the Runtime and Log
	// domains, whose events carry console calls, exceptions and failed loads.
	err = chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var parts []string
				for _, a := range ev.Args {
					if a.Description != "" {
						parts = append(parts, a.Description)
					} else {
						parts = append(parts, string(a.Value))
					}
				}
				b.note("console.error: " + strings.Join(parts, " "))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg += " " + d.Exception.Description
			}
			b.note(fmt.Sprintf("uncaught: %s (%s:%d)", msg, d.URL, d.LineNumber))
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				b.note(fmt.Sprintf("browser log: %s %s", ev.Entry.Text, ev.Entry.URL))
			}
		}
	})
	if err != nil {
		b.cancel()
		t.Fatalf("start chromium (%s): %v", path, err)
	}
	t.Cleanup(b.cancel)
	return b
}

func (b *browser) note(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errs = append(b.errs, s)
}

// expectError marks console errors that contain s as provoked by the test.
func (b *browser) expectError(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expect = append(b.expect, s)
}

// consoleErrors returns what went wrong in the page so far, less what the
// test provoked.
func (b *browser) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
next:
	for _, e := range b.errs {
		for _, x := range b.expect {
			if strings.Contains(e, x) {
				continue next
			}
		}
		out = append(out, e)
	}
	return out
}

func (b *browser) run(d time.Duration, steps ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	return chromedp.Do(ctx, steps...)
}

// evalAs evaluates a JavaScript expression in the page.
func evalAs[T any](b *browser, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

// open loads the explorer of the node at base.
func (b *browser) open(base string) error {
	return b.run(60*time.Second, chromedp.Navigate(base+"/#/"))
}

// show routes the page to hash ("/contest/1") and waits until that page
// has rendered; it returns the text of the page's main part.
func (b *browser) show(hash string) (string, error) {
	if _, err := evalAs[bool](b, fmt.Sprintf(`(() => { location.hash = %q; return true; })()`, "#"+hash)); err != nil {
		return "", err
	}
	wait := fmt.Sprintf(`(() => { const a = document.getElementById('app'); return !!a && a.dataset.ready === '1' && a.dataset.path === %q; })()`, hash)
	if err := b.waitFor(wait, 40*time.Second); err != nil {
		return "", fmt.Errorf("page #%s did not render: %w", hash, err)
	}
	return evalAs[string](b, `document.getElementById('app').innerText`)
}

// waitFor polls a JavaScript condition until it holds.
func (b *browser) waitFor(expr string, d time.Duration) error {
	ctx, cancel := context.WithTimeout(b.ctx, d+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(d), chromedp.WithPollingInterval(100*time.Millisecond)))
	return err
}

// shot saves a full-page PNG screenshot as name.png.
func (b *browser) shot(name string) error {
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644)
}
