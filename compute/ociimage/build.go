package ociimage

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"runtime"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Epoch is the time stamped on every file, the config and the history:
// fixed, so builds are reproducible.
var Epoch = time.Unix(0, 0).UTC()

// File is one regular file of the image.
type File struct {
	Path string // absolute, clean, e.g. /bin/inferd-serve
	Mode int64  // permission bits, e.g. 0o755
	Data []byte
}

// Config is the image's run configuration.
type Config struct {
	Entrypoint []string
	Cmd        []string
	Env        []string // "K=V"
	// ExposedPorts are "8080/tcp" and the like (documentation for users;
	// a provider maps the port the job spec names).
	ExposedPorts []string
	WorkingDir   string
	// Arch is the image architecture (default runtime.GOARCH).
	Arch string
}

// Spec is everything an image is built from.
type Spec struct {
	Files []File
	// Dirs are empty directories to create (mount points such as /in,
	// /out, /tmp); a file's parent directories are made anyway.
	Dirs   []string
	Config Config
}

// Build makes the image: one gzip layer holding the files and dirs.
func Build(s Spec) (v1.Image, error) {
	layerTar, err := layerTar(s)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("ociimage: layer: %w", err)
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{Created: v1.Time{Time: Epoch}, CreatedBy: "inferd ociimage"}})
	if err != nil {
		return nil, fmt.Errorf("ociimage: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("ociimage: %w", err)
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: Epoch}
	cf.OS, cf.Architecture = "linux", s.Config.Arch
	if cf.Architecture == "" {
		cf.Architecture = runtime.GOARCH
	}
	c := s.Config
	cf.Config = v1.Config{Entrypoint: c.Entrypoint, Cmd: c.Cmd, Env: c.Env, WorkingDir: c.WorkingDir}
	if len(c.ExposedPorts) > 0 {
		cf.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range c.ExposedPorts {
			cf.Config.ExposedPorts[p] = struct{}{}
		}
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, fmt.Errorf("ociimage: %w", err)
	}
	return img, nil
}

// layerTar writes the layer's tar: directories (given and implied) then
// files, each set sorted by path, with fixed owner and times.
func layerTar(s Spec) ([]byte, error) {
	dirs := map[string]bool{}
	addParents := func(p string) {
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	files := map[string]File{}
	for _, f := range s.Files {
		if err := checkPath(f.Path); err != nil {
			return nil, err
		}
		if _, dup := files[f.Path]; dup {
			return nil, fmt.Errorf("ociimage: file %s is given twice", f.Path)
		}
		if f.Mode&^0o7777 != 0 {
			return nil, fmt.Errorf("ociimage: file %s: mode %o has bits beyond the permissions", f.Path, f.Mode)
		}
		files[f.Path] = f
		addParents(f.Path)
	}
	for _, d := range s.Dirs {
		if err := checkPath(d); err != nil {
			return nil, err
		}
		dirs[d] = true
		addParents(d)
	}
	for d := range dirs {
		if _, clash := files[d]; clash {
			return nil, fmt.Errorf("ociimage: %s is both a file and a directory", d)
		}
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := func(h *tar.Header) error {
		h.ModTime, h.Uname, h.Gname, h.Format = Epoch, "root", "root", tar.FormatPAX
		return tw.WriteHeader(h)
	}
	for _, d := range slices.Sorted(keys(dirs)) {
		mode := int64(0o755)
		if d == "/tmp" {
			mode = 0o1777
		}
		if err := hdr(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/", Mode: mode}); err != nil {
			return nil, err
		}
	}
	for _, p := range slices.Sorted(keys(files)) {
		f := files[p]
		if err := hdr(&tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(p, "/"), Mode: f.Mode, Size: int64(len(f.Data))}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func checkPath(p string) error {
	if !path.IsAbs(p) || path.Clean(p) != p || p == "/" {
		return fmt.Errorf("ociimage: path %q must be absolute and clean, below /", p)
	}
	return nil
}

func keys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// mustJSON is json.Marshal for values that always encode.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
