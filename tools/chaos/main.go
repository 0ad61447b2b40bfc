// Command chaos runs a network of real inferd processes under a schedule
// of faults read from a manifest (TOML): kill, pause, restart, and, inside
// network namespaces it creates itself, disconnect, partition, packet loss
// and latency. It sends signed transfers all along, and at the end checks
// that no node forked, that every node has the same app hash at every
// height, that every transaction an API accepted was committed, and that
// the chain moved on within the recovery limit of each fault. It prints a
// summary and exits 1 when a check fails. Run it with `make chaos
// MANIFEST=...`; docs/reliability.md ("Chaos runs") describes the manifest
// and the results.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	manifest := flag.String("manifest", "tools/chaos/manifests/short.toml", "manifest (TOML)")
	bin := flag.String("bin", "bin/inferd", "inferd binary")
	keep := flag.Bool("keep", false, "keep the node homes and logs (printed) instead of removing them")
	flag.Parse()
	m, err := LoadManifest(*manifest)
	if err != nil {
		fmt.Fprintf(os.Stderr, "chaos: %v\n", err)
		os.Exit(2)
	}
	if _, err := os.Stat(*bin); err != nil {
		fmt.Fprintf(os.Stderr, "chaos: binary %s: %v (make build)\n", *bin, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "chaos-"+m.Name)
	if err != nil {
		fmt.Fprintf(os.Stderr, "chaos: %v\n", err)
		os.Exit(2)
	}
	logf := func(f string, a ...any) {
		fmt.Fprintf(os.Stderr, "%s chaos: %s\n", time.Now().Format("15:04:05.0"), fmt.Sprintf(f, a...))
	}
	rep, err := execute(ctx, m, *bin, dir, logf)
	if *keep {
		fmt.Fprintf(os.Stderr, "chaos: homes and logs kept in %s\n", dir)
	} else {
		os.RemoveAll(dir)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "chaos: %v\n", err)
		os.Exit(1)
	}
	rep.Print(os.Stdout)
	if !rep.OK() {
		os.Exit(1)
	}
}

// execute runs manifest m with the inferd binary bin, node homes under dir.
func execute(ctx context.Context, m *Manifest, bin, dir string, logf func(string, ...any)) (*Report, error) {
	if m.NeedsNetns() {
		if err := netnsUsable(); err != nil {
			return nil, fmt.Errorf("manifest %s needs network namespaces: %v", m.Name, err)
		}
	}
	r, err := newRunner(m, bin, dir, logf)
	if err != nil {
		return nil, err
	}
	defer r.c.close()
	if err := r.runAll(ctx); err != nil {
		return nil, err
	}
	rep := r.check(ctx)
	if !rep.OK() {
		logf("a check failed; the nodes' last log lines:\n%s", r.c.tailLogs(15))
	}
	return rep, nil
}

// runAll starts the nodes, runs the load and the schedule, and drains.
func (r *runner) runAll(ctx context.Context) error {
	if err := r.startNodes(ctx); err != nil {
		return err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go watch(wctx, r.c, r.t, r.avoiding)
	r.runLoad(ctx)
	r.drain(ctx)
	return ctx.Err()
}
