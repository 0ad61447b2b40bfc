package container

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/inferd/inferd/compute/jobspec"
)

// ErrNotOCIArchive: the image file is not an OCI image archive.
var ErrNotOCIArchive = errors.New("not an OCI image archive (a tar holding oci-layout and index.json); make one with `podman save --format oci-archive -o image.tar IMAGE`")

// maxArchiveEntries bounds the scan of an archive's table of contents.
const maxArchiveEntries = 100_000

// CheckOCIArchive reports whether the file at path is an OCI image layout
// in a tar (what `podman save --format oci-archive` writes): it must hold
// oci-layout and index.json at its top level.
func CheckOCIArchive(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("image archive: %w", err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var layout, index bool
	for i := 0; i < maxArchiveEntries && !(layout && index); i++ {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("image archive %s: %w (%v)", path, ErrNotOCIArchive, err)
		}
		switch strings.TrimPrefix(h.Name, "./") {
		case "oci-layout":
			layout = true
		case "index.json":
			index = true
		}
	}
	if !layout || !index {
		return fmt.Errorf("image archive %s: %w", path, ErrNotOCIArchive)
	}
	return nil
}

var cidName = regexp.MustCompile(`^[a-zA-Z0-9]{8,128}$`)

// ImageName is the local name under which the image archive with CID key
// is kept in the runner's storage.
func ImageName(key string) string {
	return "localhost/inferd-image/" + strings.ToLower(key) + ":cid"
}

var loadedID = regexp.MustCompile(`(?m)^Loaded image(?:\(s\))?: *(\S+)`)

// LoadArchive makes the OCI image archive at path (whose CID is key)
// available to Run and returns its local name. An image already loaded
// under key is reused without reading the archive.
func (r *Runner) LoadArchive(ctx context.Context, key, path string) (string, error) {
	if !cidName.MatchString(key) {
		return "", fmt.Errorf("image key %q is not a CID", key)
	}
	name := ImageName(key)
	// Loads are serialised: between a load and the untagging of the names
	// the archive brought, no other load may trust an existing name.
	r.loads.Lock()
	defer r.loads.Unlock()
	if _, err := r.podman(ctx, "image", "exists", name); err == nil {
		return name, nil
	}
	if err := CheckOCIArchive(path); err != nil {
		return "", err
	}
	out, err := r.podman(ctx, "load", "-q", "-i", path)
	if err != nil {
		return "", fmt.Errorf("image archive %s: podman load: %w", path, err)
	}
	m := loadedID.FindAllStringSubmatch(out, -1)
	if len(m) == 0 {
		return "", fmt.Errorf("image archive %s: podman load printed no image: %q", path, out)
	}
	// An archive with several images (or tags) loads them all; the first
	// is the job's.
	first := strings.Split(m[0][1], ",")[0]
	if _, err := r.podman(ctx, "tag", first, name); err != nil {
		return "", fmt.Errorf("image archive %s: tag %s: %w", path, first, err)
	}
	// Drop the names the archive brought: a user's archive must not take a
	// name that another job resolves (docker.io/library/python:3, or
	// another CID's localhost/inferd-image/... name, which then is simply
	// loaded again from its own archive when next needed).
	for _, l := range m {
		for _, n := range strings.Split(l[1], ",") {
			if !strings.HasPrefix(n, "sha256:") && n != name {
				r.podman(ctx, "untag", name, n)
			}
		}
	}
	return name, nil
}

// RemoveImage drops the name of the image loaded under key, and the image
// when no other name and no container uses it (nothing when absent).
func (r *Runner) RemoveImage(ctx context.Context, key string) error {
	name := ImageName(key)
	r.loads.Lock()
	defer r.loads.Unlock()
	id, err := r.podman(ctx, "image", "inspect", "--format", "{{.Id}}", name)
	if err != nil {
		return nil
	}
	if _, err := r.podman(ctx, "untag", name, name); err != nil {
		return err
	}
	id = strings.TrimSpace(id)
	if names, err := r.podman(ctx, "image", "inspect", "--format", "{{len .RepoTags}}", id); err == nil && strings.TrimSpace(names) == "0" {
		r.podman(ctx, "rmi", id) // fails while a container uses it; fine
	}
	return nil
}

// LocalImage returns the local name of a spec's image when it is in the
// runner's storage: an archive loaded under its CID, or a pinned reference
// the provider has. Nothing is ever pulled.
func (r *Runner) LocalImage(ctx context.Context, s *jobspec.Spec) (string, error) {
	name, what := s.Image.Ref, "image.ref "+s.Image.Ref
	if s.Image.CID != "" {
		name, what = ImageName(s.Image.CID), "image.cid "+s.Image.CID
	}
	if name == "" {
		return "", errors.New("container: the spec names no image")
	}
	if _, err := r.podman(ctx, "image", "exists", name); err != nil {
		return "", fmt.Errorf("container: %s is not in this provider's image storage; fetch the archive by CID and LoadArchive it (nothing is pulled from registries)", what)
	}
	return name, nil
}

// Pull fetches a registry reference pinned to a digest
// (name@sha256:<hex>) into the runner's storage, for providers that allow
// registry images. Unpinned references are refused: the digest is what
// the user paid for.
func (r *Runner) Pull(ctx context.Context, ref string) (string, error) {
	if !strings.Contains(ref, "@sha256:") || strings.HasPrefix(ref, "-") {
		return "", fmt.Errorf("container: image ref %q is not pinned to a digest (name@sha256:<hex>)", ref)
	}
	if _, err := r.podman(ctx, "image", "exists", ref); err == nil {
		return ref, nil
	}
	if _, err := r.podman(ctx, "pull", "-q", ref); err != nil {
		return "", fmt.Errorf("container: pull %s: %w", ref, err)
	}
	return ref, nil
}
