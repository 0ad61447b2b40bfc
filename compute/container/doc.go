// Package container runs an Inference Cloud job (a compute/jobspec.Spec) in
// a sandboxed container on a provider's machine, with the podman CLI and the
// runc runtime (docs/cloud.md says why and what is isolated), and detects
// what a provider's machine offers (CPU cores, memory, GPUs, CDI devices).
//
// A Runner loads OCI image archives into its podman storage (LoadArchive,
// cached by the archive's CID) and runs one job per Run call: no network
// unless the spec asks and the provider allows, a read-only root, all
// capabilities dropped, no new privileges, pids, memory and CPU limits,
// inputs bind-mounted read-only, one writable output directory, a
// wall-clock cap, a unique container name and removal of the container
// whatever happens. Run returns a Result whose Failure says why a job did
// not succeed. A Runner is safe for concurrent use; each Run is independent.
package container
