// Package compute is the ledger module of the compute contest and of jobs
// (DESIGN.md section 7, docs/compute.md): provider registration with a
// bond, the perpetual matmul challenge with Merkle commitments and spot
// checks attested by validators, emission by verified operations, and jobs
// with escrow, deterministic assignment, burned fees and re-execution.
//
// It is deterministic like every module: no clock (heights only), no
// floats, no unsorted map iteration, no goroutines. The heavy work (the
// product, the row checks, running Wasm jobs) happens off the ledger in
// the agents (compute/agent); the ledger only counts commitments,
// attestations and reports.
//
// # Epoch timeline
//
// An epoch starts at height S (epoch 0 at the first block that begins with
// a live provider; each next one at the height after the last one's end,
// or, with no live provider then, at the first later block that has one:
// an idle module writes nothing) with the schedule fixed from the
// parameters at that moment (E = epoch_blocks, C = commit_deadline_blocks,
// A = attest_deadline_blocks, k = rows_checked):
//
//	S            begin-block: block seed = that block's LastBlockHash; every live
//	             provider gets a round: seed ProviderSeed(block seed, address), n by tier
//	S .. S+C-1   compute/commit_root {epoch, root} accepted
//	S+C          begin-block: check seed = this block's LastBlockHash (the hash of
//	             the last block that could carry a commit); rows = spotcheck.Select(check seed, n, k)
//	S+C .. S+A-1 providers gossip rows + proofs; compute/attest accepted from
//	             operators of bonded validators (one per validator and provider)
//	S+E-1        end-block: rounds decided (Outcome), credit, slash, downtime,
//	             the "compute" pool paid; rounds and attestations deleted
//
// A provider registered or unjailed mid-epoch is challenged from the next
// epoch. Attested stake is weighed at the close, against the active set's
// total: see Outcome for the thresholds and why.
//
// # Per-block work (end-block)
//
// Unbondings, job deadlines, re-execution draws and tallies are indexed
// by height, so a block reads only what is due at it. Assignment reads the
// index of available providers, examines at most max_scan_per_block
// entries of the open-job queue (by id, resuming where the last cut-short
// scan stopped) and assigns at most max_assign_per_block jobs; the epoch
// close is one pass over that epoch's rounds and one over its attestations.
//
// # Store layout (under "compute/")
//
//	params                          Params (canonical CBOR)
//	epoch                           the current Epoch
//	next_job                        last job id (8-byte big-endian)
//	jlow, jcursor                   oldest open job id; where a cut-short assignment scan resumes
//	tot/bonded|unbonding|escrowed   running totals for Holdings
//	prov/<addr>                     Provider
//	avail/<price><^uptime><addr>    live providers with free capacity, in assignment order
//	round/<epoch><addr>             Round (tier, n, root)
//	att/<epoch><provider><val>      verdict
//	job/<id>                        Job
//	jopen/<id>                      open queue: max price, deadline
//	jdl/<height><id>                escrow deadlines (open and assigned jobs)
//	jdraw/<height><id>              re-execution draw due at height (begin-block)
//	jrx/<height><id>                re-execution tally due at height (end-block)
//	rx/<id><val>                    a validator's re-execution report
//	ubd/<height><addr>              bond returning at height
//	lwin/<height><id>               a running lease's current window, decided at height
//	lat/<id><window><val>           a validator's health verdict on a lease window (1 ok, 0 not)
//	lgone/<addr>                    a jailed provider whose leases end in the next end-block
//	srv/<addr>                      fees burned for the provider's served work this epoch
//
// Container jobs and leases (docs/compute.md section 10): open-queue
// entries of container jobs carry a third field, a kind byte; container
// jobs hold provider resources (Provider.Used) from assignment to their
// end; a lease's windows are decided one per end-block entry, so the
// per-block work is the windows ending at that height.
//
// All integers in keys are 8-byte big-endian, addresses 20 bytes.
package compute
