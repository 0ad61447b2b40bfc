package ociimage

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// RefNameAnnotation names an image in an OCI layout's index; podman load
// takes it as the loaded image's name.
const RefNameAnnotation = "org.opencontainers.image.ref.name"

// WriteArchive writes img as an OCI image layout in a tar: oci-layout,
// index.json (one manifest, named ref), and the blobs, in a fixed order
// with fixed headers.
func WriteArchive(w io.Writer, img v1.Image, ref string) error {
	manifest, err := img.RawManifest()
	if err != nil {
		return fmt.Errorf("ociimage: manifest: %w", err)
	}
	mdig, err := img.Digest()
	if err != nil {
		return fmt.Errorf("ociimage: %w", err)
	}
	config, err := img.RawConfigFile()
	if err != nil {
		return fmt.Errorf("ociimage: config: %w", err)
	}
	cdig, err := img.ConfigName()
	if err != nil {
		return fmt.Errorf("ociimage: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("ociimage: %w", err)
	}
	index := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{{
		MediaType: types.OCIManifestSchema1, Size: int64(len(manifest)), Digest: mdig,
		Annotations: map[string]string{RefNameAnnotation: ref},
	}}}
	tw := tar.NewWriter(w)
	put := func(name string, b []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(b)), ModTime: Epoch, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: Epoch, Format: tar.FormatPAX}); err != nil {
			return err
		}
	}
	if err := put("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	if err := put("index.json", mustJSON(index)); err != nil {
		return err
	}
	if err := put(blob(mdig), manifest); err != nil {
		return err
	}
	if err := put(blob(cdig), config); err != nil {
		return err
	}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return fmt.Errorf("ociimage: layer: %w", err)
		}
		rc, err := l.Compressed()
		if err != nil {
			return fmt.Errorf("ociimage: layer: %w", err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("ociimage: layer: %w", err)
		}
		if err := put(blob(d), b); err != nil {
			return err
		}
	}
	return tw.Close()
}

func blob(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }

// WriteArchiveFile builds the image of s and writes its archive to path
// (through a temporary file, so a reader never sees half an archive).
func WriteArchiveFile(path string, s Spec, ref string) error {
	img, err := Build(s)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".oci-*.tar")
	if err != nil {
		return fmt.Errorf("ociimage: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := WriteArchive(tmp, img, ref); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("ociimage: %w", err)
	}
	return os.Rename(tmp.Name(), path)
}
