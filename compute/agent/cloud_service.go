package agent

import (
	"context"
	"path/filepath"

	"github.com/inferd/inferd/compute/container"
	"github.com/inferd/inferd/compute/jobspec"
	"github.com/inferd/inferd/ledger"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
)

// stepService starts lease j's container when it does not run here yet:
// newly assigned (then lease/start is sent once it listens), or running
// on-chain after a restart of the node (started again, nothing sent).
func (c *Cloud) stepService(ctx context.Context, j ledgercompute.Job, height uint64) {
	c.mu.Lock()
	s := c.services[j.ID]
	if s != nil {
		if !s.started && j.Status == ledgercompute.JobRunning {
			s.started = true
		}
		if svc := s.svc; svc != nil && height%checkEvery == 0 && !s.checking {
			s.checking = true
			c.wg.Go(func() { c.checkService(j.ID, s, svc) })
		}
		c.mu.Unlock()
		return
	}
	sctx, cancel := context.WithCancel(ctx)
	s = &service{cancel: cancel, started: j.Status == ledgercompute.JobRunning}
	c.services[j.ID] = s
	c.mu.Unlock()
	c.wg.Go(func() {
		svc, err := c.startService(sctx, j, s)
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.services[j.ID] != s {
			// The lease ended while it started.
			if svc != nil {
				svc.Stop(context.Background())
			}
			return
		}
		if err != nil {
			c.log.Warn("lease container", "lease", j.ID, "err", err)
			delete(c.services, j.ID) // tried again next block
			return
		}
		s.svc = svc
		c.log.Info("lease container running", "lease", j.ID, "addr", svc.Addr)
	})
}

// checkEvery: a running service's container is checked every this many
// blocks; one that exited is removed and started again at the next block
// (the lease stays started: no new lease/start).
const checkEvery = 5

func (c *Cloud) checkService(id uint64, s *service, svc *container.Service) {
	running := svc.Running(context.Background())
	c.mu.Lock()
	s.checking = false
	restart := !running && c.services[id] == s
	if restart {
		delete(c.services, id)
	}
	c.mu.Unlock()
	if restart {
		c.log.Warn("lease container exited; starting it again", "lease", id, "logs", string(lastBytes(svc.Logs(context.Background()), 300)))
		s.cancel()
		svc.Stop(context.Background())
	}
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func (c *Cloud) startService(ctx context.Context, j ledgercompute.Job, s *service) (*container.Service, error) {
	spec, err := jobspec.Decode(j.Spec)
	if err != nil {
		return nil, err
	}
	s.health = spec.Service.HealthPath
	dir, err := c.jobDir(j.ID)
	if err != nil {
		return nil, err
	}
	img, err := c.image(ctx, spec)
	if err != nil {
		return nil, err
	}
	in, err := c.inputs(ctx, spec, dir)
	if err != nil {
		return nil, err
	}
	svc, err := c.cfg.Runner.StartService(ctx, container.Job{Spec: spec, Image: img, Inputs: in, OutputDir: filepath.Join(dir, "out")})
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, c.cfg.ReadyTimeout)
	defer cancel()
	if err := svc.WaitReady(rctx); err != nil {
		svc.Stop(context.Background())
		return nil, err
	}
	c.mu.Lock()
	started := s.started
	c.mu.Unlock()
	if !started {
		if _, err := c.h.Submit(ctx, ledger.NewMsg(ledgercompute.MsgTypeLeaseStart, ledgercompute.MsgLeaseStart{Lease: j.ID})); err != nil {
			svc.Stop(context.Background())
			return nil, err
		}
	}
	return svc, nil
}
