package node

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/inferd/inferd/content"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/p2p/forward"
)

// cloudFetchTimeout bounds the fetch of one image archive or input.
const cloudFetchTimeout = 30 * time.Minute

// FetchFile fetches c to path on disk (compute/agent.Files): an image
// archive or an input of a container job. Files go to path; a directory
// is exported entry by entry (files and directories only). Unpinned: it
// was fetched for someone else's job.
func (h *agentHost) FetchFile(ctx context.Context, c cid.Cid, path string) error {
	svc := h.r.Content
	if err := svc.Exchange.Fetch(ctx, c, "", content.FetchOptions{Timeout: cloudFetchTimeout, NoPin: true}); err != nil {
		return err
	}
	return svc.Store.Export(ctx, c, path)
}

// AddPath adds a job's outputs directory or logs, pinned (compute/agent.Files):
// the provider keeps them for their owner.
func (h *agentHost) AddPath(ctx context.Context, path string) (cid.Cid, error) {
	return h.r.Content.Store.Add(ctx, path, content.AddOptions{Hidden: true})
}

// LeaseTargets says where a lease this provider runs is served: its
// container's address and health path (compute/agent.Cloud.Target).
type LeaseTargets func(lease uint64) (addr, health string, ok bool)

// JobLogs follows the live output of a job this provider runs
// (compute/agent.Cloud.Logs).
type JobLogs func(ctx context.Context, job uint64) (io.ReadCloser, error)

// ServeLeases starts the lease forward protocol on the node's libp2p host
// for the leases (and live logs) of the jobs the agent account provides;
// the returned func stops it.
func (h *agentHost) ServeLeases(targets LeaseTargets, logs JobLogs) (func(), error) {
	srv, err := forward.NewServer(h.r.Host.LibP2P(), forward.ServerConfig{
		ChainID: h.ChainID(), Authorize: h.leaseAuthorizer(targets), Logs: logs, Logger: h.log.With("component", "lease-forward"),
	})
	if err != nil {
		return nil, err
	}
	return func() { srv.Close() }, nil
}

// leaseAuthorizer checks a stream against the ledger at the latest
// height (authorizeLease decides).
func (h *agentHost) leaseAuthorizer(targets LeaseTargets) forward.Authorizer {
	return func(lease uint64, who keys.Address, purpose forward.Purpose) (forward.Target, error) {
		var j ledgercompute.Job
		var bonded bool
		err := h.r.Chain.Query(h.LatestHeight(), func(c *ledger.Context) (err error) {
			j, err = h.r.Chain.Compute.JobByID(c, lease)
			bonded = h.r.Chain.Staking.IsBonded(c, who)
			return err
		})
		if err != nil {
			return forward.Target{}, fmt.Errorf("no lease %d on this network: %v", lease, err)
		}
		return authorizeLease(j, h.addr, who, bonded, purpose, targets)
	}
}

// authorizeLease: lease j runs here (self provides it, it is running and
// its container is up), and who is its owner or a key it allows
// (forward), or a bonded validator or the owner (probe). Anyone may
// locate it: which provider runs a lease is public on-chain.
func authorizeLease(j ledgercompute.Job, self, who keys.Address, bonded bool, purpose forward.Purpose, targets LeaseTargets) (forward.Target, error) {
	lease := j.ID
	if j.Kind == ledgercompute.KindBatch && (purpose == forward.PurposeLogs || purpose == forward.PurposeLocate) {
		return authorizeBatchLogs(j, self, who, purpose)
	}
	switch {
	case j.Kind != ledgercompute.KindService || j.Lease == nil:
		return forward.Target{}, fmt.Errorf("job %d is a %q job, not a lease", lease, j.Kind)
	case j.Provider != self:
		return forward.Target{}, fmt.Errorf("lease %d is not provided by this node (its provider is %s)", lease, j.Provider)
	case j.Status != ledgercompute.JobRunning:
		return forward.Target{}, fmt.Errorf("lease %d is %s, not running; see `inferd query job %d`", lease, j.Status, lease)
	}
	addr, health, ok := targets(lease)
	if !ok {
		return forward.Target{}, fmt.Errorf("lease %d's container is not running on the provider yet; try again in a few blocks", lease)
	}
	t := forward.Target{Addr: addr, Health: health}
	switch purpose {
	case forward.PurposeLocate:
		return t, nil
	case forward.PurposeLogs:
		if who == j.User {
			return t, nil
		}
		return forward.Target{}, fmt.Errorf("account %s may not read lease %d's logs: only its owner %s may", who, lease, j.User)
	case forward.PurposeForward:
		if who == j.User || slices.Contains(j.Lease.Allowed, who) {
			return t, nil
		}
		return forward.Target{}, fmt.Errorf("account %s may not connect to lease %d: only its owner %s and the keys it allows (lease/allow) may", who, lease, j.User)
	case forward.PurposeProbe:
		if who == j.User || bonded {
			return t, nil
		}
		return forward.Target{}, fmt.Errorf("account %s may not probe lease %d: only bonded validators and its owner probe", who, lease)
	}
	return forward.Target{}, fmt.Errorf("unknown purpose %s", purpose)
}

// authorizeBatchLogs: a batch job's live output, for its owner, while it
// is assigned to this provider.
func authorizeBatchLogs(j ledgercompute.Job, self, who keys.Address, purpose forward.Purpose) (forward.Target, error) {
	switch {
	case j.Provider != self:
		return forward.Target{}, fmt.Errorf("job %d is not run by this node (its provider is %s)", j.ID, j.Provider)
	case j.Status != ledgercompute.JobAssigned:
		return forward.Target{}, fmt.Errorf("job %d is %s: no live logs; once it ends its logs are a CID (inferd job logs %d)", j.ID, j.Status, j.ID)
	case purpose == forward.PurposeLogs && who != j.User:
		return forward.Target{}, fmt.Errorf("account %s may not read job %d's logs: only its owner %s may", who, j.ID, j.User)
	}
	return forward.Target{}, nil
}

// leaseClient signs lease streams with the agent key.
func (h *agentHost) leaseClient() *forward.Client {
	return forward.NewClient(h.r.Host.LibP2P(), h.ChainID(), h.priv)
}

// ProbeLease asks lease j's provider (found at its published peer, else
// among the connected peers, then remembered) to GET its health path,
// signed with the agent key (a validator's). ok is the verdict to attest;
// err means no verdict (the provider could not be asked at all counts as
// unhealthy: ok false, nil).
func (h *agentHost) ProbeLease(ctx context.Context, j ledgercompute.Job) (bool, error) {
	c := h.leaseClient()
	var p peer.ID
	if v, ok := h.leasePeers.Load(j.ID); ok {
		p = v.(peer.ID)
	} else {
		found, err := c.Find(ctx, h.publishedPeer(j), j.ID, h.log)
		if err != nil {
			return false, nil // nobody serves it: unhealthy
		}
		p = found
		h.leasePeers.Store(j.ID, p)
	}
	res, err := c.Probe(ctx, p, j.ID)
	if err != nil {
		h.leasePeers.Delete(j.ID)
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, nil
	}
	return res.Healthy(), nil
}
