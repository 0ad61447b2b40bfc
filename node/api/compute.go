package api

import (
	"net/http"
	"strconv"

	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/compute"
)

// ProvidersResponse is GET /providers: every compute provider with its
// price, capacity, verified operations ("verified_ops"), uptime and bond.
type ProvidersResponse struct {
	Height    uint64                 `json:"height"`
	Epoch     *compute.Epoch         `json:"epoch,omitempty"` // the contest epoch in progress (or last)
	Providers []compute.ProviderInfo `json:"providers"`
}

// ProviderResponse is GET /providers/{addr}: one provider and its
// challenge in the current epoch, if it has one.
type ProviderResponse struct {
	Height uint64 `json:"height"`
	compute.ProviderInfo
	Challenge *compute.ChallengeInfo `json:"challenge,omitempty"`
}

// JobsResponse is GET /jobs?status=S: jobs newest first (at most
// compute.MaxJobsListed); status is open, assigned, sealed (result pending
// reveal), done, failed, expired,
// missed, or reexec (awaiting re-execution); none lists all.
type JobsResponse struct {
	Height uint64        `json:"height"`
	Jobs   []compute.Job `json:"jobs"`
}

// JobResponse is GET /jobs/{id}.
type JobResponse struct {
	Height uint64 `json:"height"`
	compute.Job
}

var jobStatuses = map[string]bool{"": true, compute.JobOpen: true, compute.JobAssigned: true, compute.JobDone: true,
	compute.JobFailed: true, compute.JobExpired: true, compute.JobMissed: true, "reexec": true, compute.JobRunning: true, compute.JobSealed: true}

func (s *server) providers(w http.ResponseWriter, r *http.Request) error {
	c, h, err := s.at(r)
	if err != nil {
		return err
	}
	out := ProvidersResponse{Height: h}
	err = c.Query(h, func(ctx *ledger.Context) error {
		out.Providers = c.Compute.Providers(ctx)
		if e, ok := c.Compute.CurrentEpoch(ctx); ok {
			out.Epoch = &e
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) provider(w http.ResponseWriter, r *http.Request) error {
	a, err := pathAddress(r)
	if err != nil {
		return err
	}
	c, h, err := s.at(r)
	if err != nil {
		return err
	}
	out := ProviderResponse{Height: h}
	err = c.Query(h, func(ctx *ledger.Context) error {
		var err error
		if out.ProviderInfo, err = c.Compute.ProviderByAddr(ctx, a); err != nil {
			return err
		}
		if ci, err := c.Compute.Challenge(ctx, a); err == nil {
			out.Challenge = &ci
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) jobs(w http.ResponseWriter, r *http.Request) error {
	status := r.URL.Query().Get("status")
	if !jobStatuses[status] {
		return errorf(http.StatusBadRequest, "bad_status", "status %q: want open, assigned, sealed, running, done, failed, expired, missed or reexec", status)
	}
	c, h, err := s.at(r)
	if err != nil {
		return err
	}
	out := JobsResponse{Height: h}
	err = c.Query(h, func(ctx *ledger.Context) error { out.Jobs = c.Compute.Jobs(ctx, status); return nil })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) job(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		return errorf(http.StatusBadRequest, "bad_job_id", "job id %q: want a positive integer", r.PathValue("id"))
	}
	c, h, err := s.at(r)
	if err != nil {
		return err
	}
	out := JobResponse{Height: h}
	err = c.Query(h, func(ctx *ledger.Context) error {
		var err error
		out.Job, err = c.Compute.JobByID(ctx, id)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
