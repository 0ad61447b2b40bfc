package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/inferd/inferd/compute/jobspec"
)

// Networks of service containers. A service is reached on its bridge
// address, which only the provider's host can route to; nothing is
// published on the host's interfaces. (A port published on 127.0.0.1 is
// not forwarded into an --internal network by netavark, podman 4.3.)
const (
	// ServiceNetwork is an internal network: no route out, for services
	// whose spec leaves network = false.
	ServiceNetwork = "inferd-lease"
	// ServiceNetworkOpen is podman's default bridge, with a route out,
	// for services with network = true on a provider that allows it.
	ServiceNetworkOpen = "podman"
)

// Service is a running service container.
type Service struct {
	r    *Runner
	Name string
	// Addr is "IP:PORT" of the service on the provider's bridge.
	Addr string
}

// StartService starts a service job's container detached and returns
// once it has an address. The caller stops it with Stop (also after a
// crash of the node: StopAll removes leftovers by label).
func (r *Runner) StartService(ctx context.Context, j Job) (*Service, error) {
	if j.Spec == nil || j.Spec.Kind != jobspec.KindService || j.Spec.Service == nil {
		return nil, errors.New("container: StartService needs a service job spec")
	}
	network := ServiceNetwork
	if j.Spec.Network && r.cfg.AllowNetwork {
		network = ServiceNetworkOpen
	} else if err := r.ensureInternalNetwork(ctx); err != nil {
		return nil, err
	}
	args, name, err := r.runArgs(j, network)
	if err != nil {
		return nil, err
	}
	if _, err := r.podman(ctx, args...); err != nil {
		r.podman(context.WithoutCancel(ctx), "rm", "-f", "-t", "0", "--ignore", name)
		return nil, fmt.Errorf("container: start service: %w", err)
	}
	s := &Service{r: r, Name: name}
	ip, err := r.podman(ctx, "inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", name)
	ip = strings.TrimSpace(ip)
	if f := strings.Fields(ip); len(f) > 0 {
		ip = f[0]
	}
	if err != nil || net.ParseIP(ip) == nil {
		s.Stop(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("container: service %s has no address on %s: %q %v", name, network, ip, err)
	}
	s.Addr = net.JoinHostPort(ip, strconv.FormatUint(j.Spec.Service.Port, 10))
	return s, nil
}

func (r *Runner) ensureInternalNetwork(ctx context.Context) error {
	r.loads.Lock()
	defer r.loads.Unlock()
	if _, err := r.podman(ctx, "network", "exists", ServiceNetwork); err == nil {
		return nil
	}
	if _, err := r.podman(ctx, "network", "create", "--internal", ServiceNetwork); err != nil {
		// Network definitions are the host's, not the storage's: another
		// runner may have made it meanwhile.
		if _, again := r.podman(ctx, "network", "exists", ServiceNetwork); again == nil {
			return nil
		}
		return fmt.Errorf("container: create the services' internal network: %w", err)
	}
	return nil
}

// WaitReady waits until the service accepts TCP connections on its port,
// or ctx ends, or the container exits.
func (s *Service) WaitReady(ctx context.Context) error {
	for {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if !s.Running(ctx) {
			return fmt.Errorf("container: service %s exited before listening on %s: %s", s.Name, s.Addr, lastLine(s.Logs(ctx)))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("container: service %s not listening on %s: %w", s.Name, s.Addr, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Running reports whether the container is still running.
func (s *Service) Running(ctx context.Context) bool {
	out, err := s.r.podman(ctx, "inspect", "--format", "{{.State.Running}}", s.Name)
	return err == nil && strings.TrimSpace(out) == "true"
}

// Logs returns the last of the container's stdout and stderr (at most
// Config.MaxLogBytes).
func (s *Service) Logs(ctx context.Context) []byte {
	out, _ := s.r.podman(ctx, "logs", "--tail", "200", s.Name)
	b := []byte(out)
	if len(b) > s.r.cfg.MaxLogBytes {
		b = b[len(b)-s.r.cfg.MaxLogBytes:]
	}
	return b
}

// Stop removes the container (no grace period: the lease has ended).
func (s *Service) Stop(ctx context.Context) error {
	c, done := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer done()
	_, err := s.r.podman(c, "rm", "-f", "-t", "0", "--ignore", s.Name)
	return err
}

// StopAllServices removes every service container of this runner's
// storage: those a previous run of the node left behind.
func (r *Runner) StopAllServices(ctx context.Context) error {
	out, err := r.podman(ctx, "ps", "-a", "-q", "--filter", "label=inferd.lease=1")
	if err != nil {
		return err
	}
	for _, id := range strings.Fields(out) {
		r.podman(ctx, "rm", "-f", "-t", "0", "--ignore", id)
	}
	return nil
}

// Follow streams the service's logs (the recent ones, then new lines as
// they come) until ctx ends or the container stops.
func (s *Service) Follow(ctx context.Context) (io.ReadCloser, error) {
	cmd := exec.CommandContext(ctx, s.r.cfg.Podman, append(s.r.globalArgs(), "logs", "-f", "--tail", "200", s.Name)...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("container: follow logs of %s: %w", s.Name, err)
	}
	go func() { pw.CloseWithError(cmd.Wait()) }()
	return pr, nil
}

// Shutdown removes every service container and releases the runner's
// own storage (Config.Root): what a node does when it stops.
func (r *Runner) Shutdown(ctx context.Context) {
	r.StopAllServices(ctx)
	r.unmountStorage()
	if r.cfg.RunRoot != "" {
		// Runtime state only (locks, the containers' run directories), all
		// removed by now; podman makes it again on the next start. A
		// container's conmon runs `podman container cleanup` with this run
		// root after the container is gone, and podman makes the directory
		// again as it starts: wait for those before removing it.
		waitRunRootIdle(r.cfg.RunRoot, 10*time.Second)
		os.RemoveAll(r.cfg.RunRoot)
	}
}
