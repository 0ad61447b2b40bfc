package ocitest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestArchiveDigests reads a written archive back as a loader does and
// checks every digest: each blob's name and descriptor match its bytes,
// the layer unpacks to the rootfs given, and the config's rootfs.diff_ids
// holds the sha256 of that uncompressed tar (podman and docker check
// layers against it).
func TestArchiveDigests(t *testing.T) {
	rootfs := smallRootfs(t)
	path := filepath.Join(t.TempDir(), "img.tar")
	if err := WriteOCIArchive(rootfs, path); err != nil {
		t.Fatal(err)
	}
	files := untar(t, path)
	var idx v1.IndexManifest
	decode(t, files, "index.json", &idx)
	if len(idx.Manifests) != 1 {
		t.Fatalf("index.json lists %d manifests, want 1", len(idx.Manifests))
	}
	var m v1.Manifest
	mb := blob(t, files, idx.Manifests[0])
	if err := json.Unmarshal(mb, &m); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	var cf v1.ConfigFile
	if err := json.Unmarshal(blob(t, files, m.Config), &cf); err != nil {
		t.Fatalf("config: %v", err)
	}
	if len(m.Layers) != 1 {
		t.Fatalf("manifest has %d layers, want 1", len(m.Layers))
	}
	if len(cf.RootFS.DiffIDs) != len(m.Layers) {
		t.Fatalf("config rootfs.diff_ids has %d entries for %d layers: %v", len(cf.RootFS.DiffIDs), len(m.Layers), cf.RootFS.DiffIDs)
	}
	zr, err := gzip.NewReader(bytes.NewReader(blob(t, files, m.Layers[0])))
	if err != nil {
		t.Fatalf("layer %s is not gzip (media type %s): %v", m.Layers[0].Digest, m.Layers[0].MediaType, err)
	}
	unpacked, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(unpacked, rootfs) {
		t.Fatalf("layer unpacks to %d bytes, not the %d-byte rootfs given", len(unpacked), len(rootfs))
	}
	sum := sha256.Sum256(rootfs)
	if want := "sha256:" + hex.EncodeToString(sum[:]); cf.RootFS.DiffIDs[0].String() != want {
		t.Fatalf("diff_id %s, want the uncompressed tar's %s", cf.RootFS.DiffIDs[0], want)
	}
	if cf.RootFS.Type != "layers" || cf.OS != "linux" || len(cf.Config.Cmd) == 0 {
		t.Fatalf("config %+v", cf)
	}
}

// blob returns the blob desc names, checking its size and digest.
func blob(t *testing.T, files map[string][]byte, desc v1.Descriptor) []byte {
	t.Helper()
	name := "blobs/" + desc.Digest.Algorithm + "/" + desc.Digest.Hex
	b, ok := files[name]
	if !ok {
		t.Fatalf("the archive has no %s (%s)", name, desc.MediaType)
	}
	sum := sha256.Sum256(b)
	if desc.Digest.Algorithm != "sha256" || hex.EncodeToString(sum[:]) != desc.Digest.Hex {
		t.Fatalf("%s: its bytes hash to sha256:%x", name, sum)
	}
	if int64(len(b)) != desc.Size {
		t.Fatalf("%s: %d bytes, its descriptor says %d", name, len(b), desc.Size)
	}
	return b
}

func decode(t *testing.T, files map[string][]byte, name string, v any) {
	t.Helper()
	b, ok := files[name]
	if !ok {
		t.Fatalf("the archive has no %s", name)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func untar(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			files[h.Name], _ = io.ReadAll(tr)
		}
	}
}

// smallRootfs is a rootfs tar without busybox: the digests do not depend
// on what the files are.
func smallRootfs(t *testing.T) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "bin/", Mode: 0o755})
	for i := range 3 {
		body := fmt.Appendf(nil, "file %d\n", i)
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("bin/f%d", i), Mode: 0o644, Size: int64(len(body))})
		tw.Write(body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
