package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/contest"
)

// ContestsResponse is GET /contests: every contest, live or retired.
type ContestsResponse struct {
	Height   uint64                `json:"height"`
	Contests []contest.ContestInfo `json:"contests"`
}

// ContestResponse is GET /contests/{id}: spec, pool, current round and
// phase with its windows, leaderboard (agreed scores, best first) and the
// current round's submissions.
type ContestResponse struct {
	Height uint64 `json:"height"`
	contest.ContestDetail
}

// SubmissionsResponse is GET /contests/{id}/submissions?round=R.
type SubmissionsResponse struct {
	Height      uint64               `json:"height"`
	Contest     uint64               `json:"contest"`
	Round       uint64               `json:"round"`
	Submissions []contest.Submission `json:"submissions"`
}

func (s *server) contests(w http.ResponseWriter, r *http.Request) error {
	c, h, err := s.at(r)
	if err != nil {
		return err
	}
	out := ContestsResponse{Height: h}
	err = c.Query(h, func(ctx *ledger.Context) error { out.Contests = c.Contest.Contests(ctx); return nil })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func pathContestID(r *http.Request) (uint64, error) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		return 0, errorf(http.StatusBadRequest, "bad_contest_id", "contest id %q: want a positive integer", r.PathValue("id"))
	}
	return id, nil
}

// contestError maps an unknown contest to 404.
func contestError(err error) error {
	if errors.Is(err, contest.ErrUnknownContest) {
		return errorf(http.StatusNotFound, "contest_not_found", "%v (see GET /contests)", err)
	}
	return err
}

func (s *server) contest(w http.ResponseWriter, r *http.Request) error {
	id, err := pathContestID(r)
	if err != nil {
		return err
	}
	c, h, err := s.at(r)
	if err != nil {
		return err
	}
	out := ContestResponse{Height: h}
	err = c.Query(h, func(ctx *ledger.Context) error {
		var err error
		out.ContestDetail, err = c.Contest.Contest(ctx, id)
		return err
	})
	if err != nil {
		return contestError(err)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) contestSubmissions(w http.ResponseWriter, r *http.Request) error {
	id, err := pathContestID(r)
	if err != nil {
		return err
	}
	var round uint64
	if v := r.URL.Query().Get("round"); v != "" {
		if round, err = strconv.ParseUint(v, 10, 64); err != nil || round == 0 {
			return errorf(http.StatusBadRequest, "bad_round", "?round=%q: want a positive integer (omit it for the current round)", v)
		}
	}
	c, h, err := s.at(r)
	if err != nil {
		return err
	}
	out := SubmissionsResponse{Height: h, Contest: id, Round: round}
	err = c.Query(h, func(ctx *ledger.Context) error {
		if out.Round == 0 {
			d, err := c.Contest.Contest(ctx, id)
			if err != nil {
				return err
			}
			out.Round = d.Round.Round
		}
		var err error
		out.Submissions, err = c.Contest.Submissions(ctx, id, out.Round)
		return err
	})
	if err != nil {
		return contestError(err)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
