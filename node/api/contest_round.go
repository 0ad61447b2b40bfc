package api

import (
	"net/http"
	"strconv"

	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/contest"
)

// RoundResponse is GET /contests/{id}/rounds/{round}: one round in full,
// with its frozen validator set and every validator's attestation (the
// scores it revealed), beside the submissions.
type RoundResponse struct {
	Height  uint64 `json:"height"`
	Contest uint64 `json:"contest"`
	contest.RoundView
}

func (s *server) contestRound(w http.ResponseWriter, r *http.Request) error {
	id, err := pathContestID(r)
	if err != nil {
		return err
	}
	round, err := strconv.ParseUint(r.PathValue("round"), 10, 64)
	if err != nil || round == 0 {
		return errorf(http.StatusBadRequest, "bad_round", "round %q: want a positive integer", r.PathValue("round"))
	}
	c, h, err := s.at(r)
	if err != nil {
		return err
	}
	out := RoundResponse{Height: h, Contest: id}
	err = c.Query(h, func(ctx *ledger.Context) error {
		var err error
		out.RoundView, err = c.Contest.Round(ctx, id, round)
		return err
	})
	if err != nil {
		return contestError(err)
	}
	if out.Set == nil {
		out.Set = []contest.Member{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
