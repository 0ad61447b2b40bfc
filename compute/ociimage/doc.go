// Package ociimage builds OCI container images from files, with no daemon
// and no registry (go-containerregistry), and writes them as OCI image
// archives (the layout `podman save --format oci-archive` writes, which
// `podman load` and compute/container read). The bytes are deterministic:
// sorted entries, fixed timestamps, owner root, so the same inputs give the
// same archive and so the same content CID on every machine.
package ociimage
