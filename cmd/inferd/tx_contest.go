package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/inferd/inferd/contest/spec"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/contest"
	"github.com/inferd/inferd/ledger/gov"
)

type contestTxArgs struct {
	title, description, deposit string
	contest, round              uint64
	model, salt, cid            string
	dataset                     uint32
	waitWindow                  bool
}

func newTxContestCmd(a *txArgs) *cobra.Command {
	c := group("contest", "Propose and retire contests; commit and reveal models")
	x := &contestTxArgs{}
	propose := &cobra.Command{
		Use:   "propose SPEC --deposit AMOUNT [--title T] [--description D]",
		Short: "Submit a governance proposal that creates the contest of a TOML spec when it passes",
		Args:  exactArgs("SPEC"),
		RunE: func(c *cobra.Command, args []string) error {
			s, err := spec.Load(args[0])
			if err != nil {
				return fmt.Errorf("%s: %w (run 'inferd contest validate %s' for every problem)", args[0], err, args[0])
			}
			title := x.title
			if title == "" {
				title = "Contest: " + s.Name
			}
			if len(title) > gov.MaxTitleBytes {
				title = title[:gov.MaxTitleBytes]
			}
			desc := x.description
			if desc == "" {
				desc = s.Objective
			}
			return x.propose(c.Context(), a, title, desc, contest.NewCreateContent(s))
		},
	}
	retire := &cobra.Command{
		Use:   "retire ID --deposit AMOUNT",
		Short: "Submit a governance proposal that retires a contest (its pool is burned)",
		Args:  exactArgs("ID"),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseContestID(args[0])
			if err != nil {
				return err
			}
			title, desc := x.title, x.description
			if title == "" {
				title = fmt.Sprintf("Retire contest %d", id)
			}
			if desc == "" {
				desc = title
			}
			return x.propose(c.Context(), a, title, desc, contest.NewRetireContent(id))
		},
	}
	for _, p := range []*cobra.Command{propose, retire} {
		f := p.Flags()
		f.StringVar(&x.deposit, "deposit", "", "initial deposit (required), e.g. 1000inf")
	}
	propose.Flags().StringVar(&x.title, "title", "", "proposal title (default: from the spec)")
	propose.Flags().StringVar(&x.description, "description", "", "proposal description (default: the spec's objective)")
	retire.Flags().StringVar(&x.title, "title", "", `proposal title (default: "Retire contest ID")`)
	retire.Flags().StringVar(&x.description, "description", "", "proposal description (default: the title)")
	commit := &cobra.Command{
		Use:   "commit --contest ID --model CID [--salt HEX] [--round R]",
		Short: "Commit sha256(model CID || salt || you) in the commit window; prints and saves the salt",
		Args:  exactArgs(),
		RunE:  func(c *cobra.Command, _ []string) error { return x.commit(c.Context(), a) },
	}
	reveal := &cobra.Command{
		Use:   "reveal --contest ID --model CID [--salt HEX] [--round R]",
		Short: "Reveal a committed model in the reveal window (the salt defaults to the one commit saved)",
		Args:  exactArgs(),
		RunE:  func(c *cobra.Command, _ []string) error { return x.reveal(c.Context(), a) },
	}
	for _, p := range []*cobra.Command{commit, reveal} {
		f := p.Flags()
		f.Uint64Var(&x.contest, "contest", 0, "contest id (required)")
		f.StringVar(&x.model, "model", "", "the model's CID (required)")
		f.Uint64Var(&x.round, "round", 0, "round (default: the contest's current round)")
		f.BoolVar(&x.waitWindow, "wait-for-window", false, "outside the window, wait for it (a commit: the next round's) instead of failing")
	}
	commit.Flags().StringVar(&x.salt, "salt", "", "salt, 32-128 hex characters (default: random, saved for reveal)")
	reveal.Flags().StringVar(&x.salt, "salt", "", "salt, 32-128 hex characters (default: the one commit saved)")
	revealDataset := &cobra.Command{
		Use:   "reveal-dataset --contest ID --dataset N --cid CID --salt HEX",
		Short: "As the designer, reveal sealed dataset N (its index in the spec) after a builders' reveal window",
		Args:  exactArgs(),
		RunE: func(c *cobra.Command, _ []string) error {
			if x.contest == 0 || x.cid == "" || x.salt == "" {
				return usagef("--contest, --dataset, --cid and --salt are required")
			}
			salt, err := hex.DecodeString(x.salt)
			if err != nil {
				return usagef("--salt: not hex: %v", err)
			}
			return a.send(c.Context(), ledger.NewMsg(contest.MsgTypeRevealDataset, contest.MsgRevealDataset{Contest: x.contest, Dataset: x.dataset, CID: x.cid, Salt: salt}))
		},
	}
	f := revealDataset.Flags()
	f.Uint64Var(&x.contest, "contest", 0, "contest id (required)")
	f.Uint32Var(&x.dataset, "dataset", 0, "index of the sealed dataset in the spec's datasets (from 0)")
	f.StringVar(&x.cid, "cid", "", "the dataset's CID (required)")
	f.StringVar(&x.salt, "salt", "", "the salt its commitment was made with (required)")
	c.AddCommand(propose, retire, commit, reveal, revealDataset)
	return c
}

func parseContestID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 {
		return 0, usagef("contest id %q: want a positive integer", s)
	}
	return id, nil
}

func (x *contestTxArgs) propose(ctx context.Context, a *txArgs, title, desc string, content gov.Content) error {
	if x.deposit == "" {
		return usagef("--deposit is required, e.g. --deposit 1000inf (see 'inferd query params' for gov.min_deposit)")
	}
	dep, err := parseAmountArg(x.deposit)
	if err != nil {
		return err
	}
	return a.send(ctx, ledger.NewMsg(gov.MsgTypeSubmitProposal, gov.MsgSubmitProposal{Title: title, Description: desc, Content: content, InitialDeposit: dep}))
}

// target checks --contest and --model, then that a tx sent now lands in
// the round's window (which: "commit" or "reveal"); with --wait-for-window
// it waits for the window. A tx outside its window can only fail, and
// would still pay its fee.
func (x *contestTxArgs) target(ctx context.Context, a *txArgs, which string) (contest.RoundInfo, error) {
	if x.contest == 0 || x.model == "" {
		return contest.RoundInfo{}, usagef("--contest ID and --model CID are required")
	}
	if _, err := contest.ParseCID(x.model); err != nil {
		return contest.RoundInfo{}, usagef("--model: %v", err)
	}
	if a.generateOnly && x.round != 0 {
		return contest.RoundInfo{Round: x.round}, nil // offline: the signer's business
	}
	return x.inWindow(ctx, a, which, x.waitWindow)
}

// saltFile is where commit keeps a salt for reveal: one file per contest,
// round, sender and model under <home>/contest-salts/.
func (a *txArgs) saltFile(id, round uint64, from, model string) (string, error) {
	home, err := keysHome(a.home)
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "contest-salts", fmt.Sprintf("%d-%d-%s-%s.hex", id, round, from, model)), nil
}

func (x *contestTxArgs) commit(ctx context.Context, a *txArgs) error {
	if err := a.checkFlags(); err != nil {
		return err
	}
	info, err := keyInfo(a.home, a.backend, a.from)
	if err != nil {
		return err
	}
	sender := info.Address
	ri, err := x.target(ctx, a, "commit")
	if err != nil {
		return err
	}
	salt, err := x.saltBytes(true)
	if err != nil {
		return err
	}
	c, _ := contest.ParseCID(x.model)
	path, err := a.saltFile(x.contest, ri.Round, a.from, c.String())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	prev, perr := os.ReadFile(path)
	if perr == nil && x.salt == "" {
		return usagef("key %q already committed model %s in contest %d round %d (its salt is in %s): reveal it, or pass --salt to commit again", a.from, c, x.contest, ri.Round, path)
	}
	if err := ledger.WriteFileAtomic(path, []byte(hex.EncodeToString(salt)+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "round %d, salt %s (saved to %s; 'reveal' reads it from there)\n", ri.Round, hex.EncodeToString(salt), path)
	err = a.send(ctx, ledger.NewMsg(contest.MsgTypeCommit, contest.MsgCommit{Contest: x.contest, Round: ri.Round, Hash: contest.CommitHash(c, salt, sender)}))
	var failed txFailedError
	if err != nil && (!a.submitted || errors.As(err, &failed)) {
		// No commit took: a salt file would only mislead a later reveal
		// (one of an earlier commit is put back).
		if perr == nil {
			ledger.WriteFileAtomic(path, prev, 0o600)
		} else if rerr := os.Remove(path); rerr == nil {
			fmt.Fprintf(stderr, "the commit did not take; removed %s\n", path)
		}
	}
	return err
}

func (x *contestTxArgs) reveal(ctx context.Context, a *txArgs) error {
	if err := a.checkFlags(); err != nil {
		return err
	}
	ri, err := x.target(ctx, a, "reveal")
	if err != nil {
		return err
	}
	c, _ := contest.ParseCID(x.model)
	if x.salt == "" {
		path, err := a.saltFile(x.contest, ri.Round, a.from, c.String())
		if err != nil {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return usagef("no --salt and no saved salt for contest %d round %d, key %q, model %s (%v)", x.contest, ri.Round, a.from, c, err)
		}
		x.salt = strings.TrimSpace(string(raw))
	}
	salt, err := x.saltBytes(false)
	if err != nil {
		return err
	}
	return a.send(ctx, ledger.NewMsg(contest.MsgTypeReveal, contest.MsgReveal{Contest: x.contest, Round: ri.Round, Model: c.String(), Salt: salt}))
}

// saltBytes parses --salt, or makes a random one when allowed.
func (x *contestTxArgs) saltBytes(random bool) ([]byte, error) {
	if x.salt == "" && random {
		s := make([]byte, 32)
		_, err := rand.Read(s)
		return s, err
	}
	s, err := hex.DecodeString(x.salt)
	if err != nil || len(s) < contest.MinSaltBytes || len(s) > contest.MaxSaltBytes {
		return nil, usagef("--salt: want %d-%d bytes as hex", contest.MinSaltBytes, contest.MaxSaltBytes)
	}
	return s, nil
}
