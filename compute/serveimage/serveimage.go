// Package serveimage makes the container image of cmd/inferd-serve (the
// demo's inference server and batch predictor) and the job specs that run
// it: it finds or builds the static binary and writes a deterministic OCI
// archive with compute/ociimage.
package serveimage

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/inferd/inferd/compute/jobspec"
	"github.com/inferd/inferd/compute/ociimage"
)

// Where the image expects things, and what it serves.
const (
	BinPath    = "/bin/inferd-serve"
	ModelPath  = "/in/model"
	DataPath   = "/in/data"
	Port       = 8080
	HealthPath = "/healthz"
	Ref        = "localhost/inferd-serve:demo"
	// Module is the Go module the binary is built from.
	Module = "github.com/inferd/inferd"
	// BinaryName is the binary's file name (next to inferd after make build).
	BinaryName = "inferd-serve"
	// ArchiveName is the archive's file name in a cache directory.
	ArchiveName = "inferd-serve-oci.tar"
)

// Spec is the image of the binary bin: its entrypoint is the binary, its
// default command serves the model mounted at ModelPath on Port; a batch
// job's args ("batch", ...) pick the other mode.
func Spec(bin []byte) ociimage.Spec {
	return ociimage.Spec{
		Files: []ociimage.File{{Path: BinPath, Mode: 0o755, Data: bin}},
		Dirs:  []string{"/in", "/out", "/tmp"},
		Config: ociimage.Config{
			Entrypoint:   []string{BinPath},
			Cmd:          []string{"serve", "-model", ModelPath, "-listen", fmt.Sprintf(":%d", Port)},
			ExposedPorts: []string{fmt.Sprintf("%d/tcp", Port)},
			WorkingDir:   "/",
		},
	}
}

// Binary returns the path of a static inferd-serve: the one next to the
// running executable (make build puts it there), else one built with
// `go build` (CGO_ENABLED=0) from the inferd module found at or above the
// working directory, into cacheDir.
func Binary(ctx context.Context, cacheDir string) (string, error) {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), BinaryName)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	mod, err := FindModule(wd)
	if err != nil {
		return "", fmt.Errorf("no %s next to the inferd binary (make build puts it there) and %v", BinaryName, err)
	}
	out := filepath.Join(cacheDir, BinaryName)
	if err := BuildBinary(ctx, mod, out); err != nil {
		return "", err
	}
	return out, nil
}

// FindModule returns the directory of the inferd module's go.mod at or
// above dir.
func FindModule(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if f, err := os.Open(filepath.Join(d, "go.mod")); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if strings.TrimSpace(sc.Text()) == "module "+Module {
					f.Close()
					return d, nil
				}
			}
			f.Close()
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("the inferd module (go.mod of %s) is not at or above %s to build it from; run from the source tree or run `make build`", Module, dir)
		}
	}
}

// BuildBinary builds cmd/inferd-serve of the module at modDir into out:
// static (CGO_ENABLED=0), without paths or VCS stamps, so the same source
// and toolchain give the same bytes and so the same image CID.
func BuildBinary(ctx context.Context, modDir, out string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return errors.New("building inferd-serve needs the Go toolchain (go on PATH), or run `make build` to put bin/inferd-serve next to inferd")
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w", "-o", out, "./cmd/inferd-serve")
	cmd.Dir = modDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/inferd-serve in %s: %v: %s", modDir, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// WriteArchive writes the image of the binary at binPath to
// cacheDir/ArchiveName and returns that path.
func WriteArchive(binPath, cacheDir string) (string, error) {
	bin, err := os.ReadFile(binPath)
	if err != nil {
		return "", fmt.Errorf("inferd-serve binary: %w", err)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	p := filepath.Join(cacheDir, ArchiveName)
	return p, ociimage.WriteArchiveFile(p, Spec(bin), Ref)
}

// ServiceJob is the spec of a lease serving the model with CID model from
// the image with CID image.
func ServiceJob(image, model string, blocks, pricePerBlock uint64) *jobspec.Spec {
	return &jobspec.Spec{
		Kind:      jobspec.KindService,
		Image:     jobspec.Image{CID: image},
		Resources: jobspec.Resources{MilliCPU: 500, MemoryBytes: 64 << 20},
		Inputs:    []jobspec.Input{{CID: model, Path: ModelPath}},
		Service:   &jobspec.Service{Port: Port, HealthPath: HealthPath, DurationBlocks: blocks, PricePerBlock: pricePerBlock},
	}
}

// BatchJob is the spec of a batch job predicting every row of the dataset
// with CID data with the model with CID model; it writes
// /out/predictions.csv and /out/summary.json.
func BatchJob(image, model, data string, maxPrice uint64) *jobspec.Spec {
	return &jobspec.Spec{
		Kind:      jobspec.KindBatch,
		Image:     jobspec.Image{CID: image},
		Args:      []string{"batch", "-model", ModelPath, "-data", DataPath, "-out", jobspec.OutputDir},
		Resources: jobspec.Resources{MilliCPU: 500, MemoryBytes: 64 << 20},
		Inputs:    []jobspec.Input{{CID: model, Path: ModelPath}, {CID: data, Path: DataPath}},
		Outputs:   []string{jobspec.OutputDir + "/predictions.csv", jobspec.OutputDir + "/summary.json"},
		TimeLimit: 120,
		MaxPrice:  maxPrice,
	}
}
