package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/inferd/inferd/contest/spec"
	"github.com/inferd/inferd/ledger/contest"
)

func init() { register(newContestCmd) }

func newContestCmd() *cobra.Command {
	c := group("contest", "Check contest specs and seal datasets (offline)")
	c.AddCommand(
		&cobra.Command{
			Use:   "validate SPEC",
			Short: "Check a contest spec (TOML) and explain every problem by field name",
			Long: `Check a contest spec file as the ledger will when it is proposed, and print
every problem with the field it concerns (e.g. "split: builders_ppm +
designer_ppm + validators_ppm = 990000, want 1000000"). Exits 1 when the
spec is invalid. See contest/spec/example.toml and docs/contests.md.`,
			Args: exactArgs("SPEC"),
			RunE: func(_ *cobra.Command, args []string) error { return runContestValidate(args[0]) },
		},
		&cobra.Command{
			Use:   "seal CID",
			Short: "Make the commitment of a sealed dataset: prints a fresh salt and sha256(CID bytes || salt)",
			Long: `Seal a dataset for a contest spec: put the commitment in the dataset's
"commitment" field (policy = "sealed") and keep the salt; after a round's
builders' reveal window, reveal it with 'inferd tx contest reveal-dataset'.`,
			Args: exactArgs("CID"),
			RunE: func(_ *cobra.Command, args []string) error { return runContestSeal(args[0]) },
		},
	)
	return c
}

func runContestValidate(path string) error {
	s, err := spec.Load(path)
	var es contest.SpecErrors
	if errors.As(err, &es) {
		for _, e := range es {
			fmt.Fprintf(stdout, "%s: %s\n", e.Field, e.Reason)
		}
		return fmt.Errorf("%s: %d problem(s); each is listed above by field", path, len(es))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: valid contest spec %q (%s, %s %s; rounds of %d blocks)\n", path, s.Name, evaluatorName(s.Evaluator), s.Direction, s.Metric, s.Schedule.RoundLengthBlocks)
	return nil
}

func evaluatorName(e contest.Evaluator) string {
	if e.Wasm != "" {
		return "wasm " + e.Wasm
	}
	return e.Builtin
}

func runContestSeal(s string) error {
	c, err := contest.ParseCID(s)
	if err != nil {
		return usagef("%v", err)
	}
	salt := make([]byte, 32)
	if _, err := rand.Read(salt); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "commitment = %q\nsalt       = %q   # keep it: the reveal needs it\n", hex.EncodeToString(contest.DatasetCommitment(c, salt)), hex.EncodeToString(salt))
	return nil
}
