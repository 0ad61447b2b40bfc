// Package agent holds the compute agents that run inside a node, against
// the agent.Host contract (agent/host.go):
//
//   - Provider (inferd run --provider): each epoch it reads its challenge
//     from the ledger (ledger/compute Challenge), computes C = A*B with a
//     matmul.Backend (NewBackend: "cpu"; "gpu" is not built in), builds the
//     row Merkle tree, sends compute/commit_root before the commit
//     deadline, and once the ledger shows the selected rows publishes them
//     with their proofs on agent.TopicCompute (RowsMsg; again every
//     RepublishBlocks blocks until the attest deadline). It runs the jobs
//     assigned to it: fetch the workload (a WASI command module) and the
//     input by CID, run it with wasmrun under caps, add the output and
//     report it: sealed while reexec_ppm > 0 (job/result_commit, then
//     job/result_reveal once the ledger allows: provider_reveal.go), else
//     job/result; an error instead of a CID for a workload that cannot run.
//   - Verifier (a validator's operator account): it checks rows messages
//     against the committed root and a recomputation (compute/spotcheck),
//     outside block execution, and sends compute/attest; near the attest
//     deadline it attests missing for committed rounds whose rows never
//     came; it re-executes the jobs drawn for re-execution, sends
//     job/reexec_commit in the commit window and job/reexec_reveal once the
//     reveal window opens (reveal.go).
//
// Both agents write each commitment's result and salt to a pendingStore
// (pending.go: one fsynced file per job under ProviderConfig.Dir or
// VerifierConfig.Dir) before the commit is submitted, so a node restarted
// between commit and reveal still reveals. Nothing else survives a restart.
//
// Gossip is untrusted: DecodeRows bounds and strictly decodes it, and only
// an answer whose rows open the provider's own committed root can lead to
// a wrong_row attestation (anyone can publish rows under a provider's
// name; nobody else can open its root).
//
// Payload on agent.TopicCompute (canonical CBOR, codec): RowsMsg =
// [version=1, provider (20-byte address), epoch, root (32 bytes),
// [[index, values (n int32 little-endian), [proof hash (32 bytes)...]]...]].
// k rows of n int32 are 4kn bytes: 512 KiB at k = 16, n = 8192; at most
// 2 MiB with rows_checked capped at 64, under the 4 MiB gossip limit, so
// one message always carries a whole answer.
package agent
