package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/compute"
)

// LeasesResponse is GET /leases?status=S: service jobs (leases) newest
// first, at most compute.MaxJobsListed; status as for /jobs ("running"
// for live leases); live=1 lists the running leases by the height their
// current health window is decided (the probers' work list) instead.
type LeasesResponse struct {
	Height uint64              `json:"height"`
	Leases []compute.LeaseInfo `json:"leases"`
}

// LeaseResponse is GET /leases/{id}: the job with its lease and the
// health window at this height.
type LeaseResponse struct {
	Height uint64 `json:"height"`
	compute.LeaseInfo
}

func (s *server) leases(w http.ResponseWriter, r *http.Request) error {
	status := r.URL.Query().Get("status")
	if !jobStatuses[status] {
		return errorf(http.StatusBadRequest, "bad_status", "status %q: want open, assigned, running, done, expired or missed", status)
	}
	live := r.URL.Query().Get("live")
	if live != "" && live != "1" {
		return errorf(http.StatusBadRequest, "bad_live", "live %q: want 1 or nothing", live)
	}
	c, h, err := s.at(r)
	if err != nil {
		return err
	}
	out := LeasesResponse{Height: h}
	err = c.Query(h, func(ctx *ledger.Context) error {
		if live == "1" {
			out.Leases = c.Compute.LiveLeases(ctx)
		} else {
			out.Leases = c.Compute.Leases(ctx, status)
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) lease(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		return errorf(http.StatusBadRequest, "bad_lease_id", "lease id %q: want a positive integer (the service job's id)", r.PathValue("id"))
	}
	c, h, err := s.at(r)
	if err != nil {
		return err
	}
	out := LeaseResponse{Height: h}
	err = c.Query(h, func(ctx *ledger.Context) error {
		var err error
		out.LeaseInfo, err = c.Compute.LeaseByID(ctx, id)
		return err
	})
	if errors.Is(err, compute.ErrNotLease) {
		return errorf(http.StatusNotFound, "not_a_lease", "%v; see it at /jobs/%d", err, id)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
