package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/inferd/inferd/compute/container"
	"github.com/inferd/inferd/content"

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
	c.AddCommand(newJobRunCmd(), newJobSubmitCmd(), newJobGetCmd(), newJobLogsCmd())
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

type jobRunArgs struct {
	image        string
	inputs       []string
	out          string
	allowNetwork bool
	gpuDevices   []string
	storage      string
}

func newJobRunCmd() *cobra.Command {
	var a jobRunArgs
	c := &cobra.Command{
		Use:   "run FILE --image ARCHIVE --out DIR [--input PATH=HOSTPATH]...",
		Short: "Run a job spec's container here, in the provider's sandbox (podman + runc)",
		Long: "run runs a job spec on this machine exactly as a provider would (docs/cloud.md):\n" +
			"--image is the OCI archive whose CID is the spec's image.cid (checked), each\n" +
			"input is given as its container path = a local file or directory (its CID is\n" +
			"checked), and the outputs land in --out. Needs root, podman and runc.",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return runJobRun(c, a, args[0]) },
	}
	f := c.Flags()
	f.StringVar(&a.image, "image", "", "the OCI image archive (podman save --format oci-archive) of image.cid")
	f.StringArrayVar(&a.inputs, "input", nil, "PATH=HOSTPATH: the local file or directory for the input mounted at PATH")
	f.StringVar(&a.out, "out", "", "an empty (or new) directory for the job's /out")
	f.BoolVar(&a.allowNetwork, "allow-network", false, "let a spec with network = true reach the network")
	f.StringArrayVar(&a.gpuDevices, "gpu-device", nil, "CDI device for GPU jobs, e.g. nvidia.com/gpu=all")
	f.StringVar(&a.storage, "storage", "", "podman storage directory for the job's images (default: podman's own)")
	return c
}

func runJobRun(c *cobra.Command, a jobRunArgs, file string) error {
	data, err := readSpecFile(file)
	if err != nil {
		return err
	}
	s, err := jobspec.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w (run inferd job validate %s)", file, err, file)
	}
	if a.out == "" {
		return usagef("--out DIR is needed: the job's /out is written there")
	}
	ctx := c.Context()
	if s.Image.CID != "" {
		if a.image == "" {
			return usagef("the spec's image is cid %s: give its archive with --image FILE", s.Image.CID)
		}
		if err := sameCID(ctx, "image archive "+a.image, a.image, s.Image.CID); err != nil {
			return err
		}
	}
	inputs := map[string]string{}
	for _, kv := range a.inputs {
		p, host, ok := strings.Cut(kv, "=")
		if !ok {
			return usagef("--input %q: expected PATH=HOSTPATH, e.g. /in/data=./data", kv)
		}
		abs, err := filepath.Abs(host)
		if err != nil {
			return err
		}
		inputs[p] = abs
	}
	for _, in := range s.Inputs {
		host, ok := inputs[in.Path]
		if !ok {
			return usagef("the spec's input %s (cid %s) has no --input %s=HOSTPATH", in.Path, in.CID, in.Path)
		}
		if err := sameCID(ctx, "input "+in.Path, host, in.CID); err != nil {
			return err
		}
	}
	out, err := emptyDir(a.out)
	if err != nil {
		return err
	}
	cfg := container.Config{AllowNetwork: a.allowNetwork, GPUDevices: a.gpuDevices}
	if a.storage != "" {
		cfg.Root, cfg.RunRoot = filepath.Join(a.storage, "root"), filepath.Join(a.storage, "run")
	}
	r, err := container.New(cfg)
	if err != nil {
		return err
	}
	var img string
	if s.Image.CID != "" {
		img, err = r.LoadArchive(ctx, s.Image.CID, a.image)
	} else {
		img, err = r.LocalImage(ctx, s)
	}
	if err != nil {
		return err
	}
	res, err := r.Run(ctx, container.Job{Spec: s, Image: img, Inputs: inputs, OutputDir: out})
	if err != nil {
		return err
	}
	stdout.Write(res.Logs)
	if res.LogsDropped > 0 {
		fmt.Fprintf(stdout, "[%d more bytes of logs dropped]\n", res.LogsDropped)
	}
	if !res.OK() {
		return fmt.Errorf("job failed (%s): %s", res.Failure, res.Reason)
	}
	fmt.Fprintf(stdout, "job ok in %s: exit 0, %d bytes in %s\n", res.Duration.Round(1e6), res.OutputBytes, out)
	for _, o := range res.Outputs {
		fmt.Fprintln(stdout, "output", o)
	}
	return nil
}

// sameCID checks that the local file or directory at p has the CID want
// (as inferd add computes it).
func sameCID(ctx context.Context, what, p, want string) error {
	got, err := content.Hash(ctx, p, content.AddOptions{})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if got.String() != want {
		return fmt.Errorf("%s: %s has CID %s but the spec says %s; give the right file, or put its CID (inferd add -n %s) in the spec", what, p, got, want, p)
	}
	return nil
}

func emptyDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("--out: %w", err)
	}
	ents, err := os.ReadDir(abs)
	if err != nil {
		return "", fmt.Errorf("--out: %w", err)
	}
	if len(ents) > 0 {
		return "", usagef("--out %s is not empty: give a new or empty directory", dir)
	}
	return abs, nil
}
