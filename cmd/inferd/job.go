package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/inferd/inferd/compute/jobspec"
)

func init() { register(newJobCmd) }

func newJobCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "job",
		Short: "Work with Inference Cloud job specs (see docs/cloud.md)",
	}
	c.AddCommand(&cobra.Command{
		Use:   "validate FILE",
		Short: "Check a TOML job spec and print every bad field",
		Long: "validate reads a job spec (TOML; - for stdin), prints each bad field with\n" +
			"what is expected, and exits 1 when there is any; for a good spec it prints\n" +
			"a summary and the sha256 of its canonical encoding.",
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error { return runJobValidate(args[0]) },
	})
	return c
}

func runJobValidate(file string) error {
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(io.LimitReader(stdin, jobspec.MaxSpecBytes+1))
	} else {
		data, err = readSpecFile(file)
	}
	if err != nil {
		return err
	}
	s, err := jobspec.Parse(data)
	var es jobspec.Errors
	if errors.As(err, &es) {
		for _, e := range es {
			fmt.Fprintf(stdout, "%s: %s\n", file, e.Error())
		}
		return fmt.Errorf("%s: %d problem(s) in the job spec; fix them and validate again", file, len(es))
	} else if err != nil {
		return err
	}
	enc, err := jobspec.Encode(s)
	if err != nil {
		return err
	}
	img := "cid " + s.Image.CID
	if s.Image.Ref != "" {
		img = "ref " + s.Image.Ref
	}
	fmt.Fprintf(stdout, "%s: ok: %s job, image %s, %.3f cpu, %d bytes of memory, %d input(s), %d output(s)\n",
		file, s.Kind, img, float64(s.Resources.MilliCPU)/1000, s.Resources.MemoryBytes, len(s.Inputs), len(s.Outputs))
	fmt.Fprintf(stdout, "canonical encoding: %d bytes, sha256 %x\n", len(enc), sha256.Sum256(enc))
	return nil
}

func readSpecFile(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("job spec: %w", err)
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, jobspec.MaxSpecBytes+1))
}
