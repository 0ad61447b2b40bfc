// Package contest is the ledger module that runs contests: each contest
// is an instance defined by a Spec, created and retired through
// governance, fed by emission through the gauge, and paying builders,
// its designer and its validators at the end of every round.
//
// # Lifecycle
//
// A "contest/create" proposal carries the canonical CBOR of a Spec
// (checked with Spec.Validate at submission). When it passes, the contest
// gets the next id (from 1), becomes live, and its pool "contest-<id>"
// (a bank pool) enters the emission gauge (emission.AddLiveModule).
// Round 1 starts at the block after the one that executed the proposal.
// A "contest/retire" proposal (RetireContent) removes it from the gauge,
// abandons its open round, and burns what is left in its pool through
// the bank (bank.PoolSub + bank.NoteBurned), so the supply invariant
// holds with nothing orphaned.
//
// # Round timeline
//
// Round r covers L = round_length_blocks blocks from
// start + (r-1)*L. Inside it, from its first block, in order:
//
//	commit         commit_blocks          builders send contest/commit
//	reveal         reveal_blocks          builders send contest/reveal
//	attest_commit  attest_commit_blocks   validators send contest/attest_commit
//	attest_reveal  attest_reveal_blocks   validators send contest/attest_reveal
//	settle         the rest of the round  nothing; the round closes in its last block
//
// In the end-block of the last reveal block the round freezes: the
// revealed, non-copy submissions become its scored list (by index; the
// order of every attestation's scores), commits never revealed become
// "unrevealed", and the validator set is fixed from staking's active set
// by the spec's policy (all, top_n by tokens, or the bonded members of a
// list), each member with its tokens at that moment. An attest_commit
// records that stake, so moving stake afterwards changes nothing. A
// sealed dataset is revealed by the designer (contest/reveal_dataset)
// once a round's builders' reveal window has closed, in time for the
// validators to evaluate; it stays revealed.
//
// # Anti-copying
//
// Commit hash = sha256(CID bytes || salt || sender): a commit reveals
// nothing and cannot be replayed by another account. A model (keyed by
// its multihash, so CIDv0 and v1 of one file are one model) belongs to
// the submission with the lowest commit sequence across the contest's
// history; every other submission of it is kept with status "copy"
// (CopyOf names the owner), is not scored and earns nothing. Within a
// round an earlier commit that reveals later still wins the model. A
// validator's scores are revealed only in the attest_reveal window, after
// every member's attest_commit window has closed.
//
// Copies under another CID (copies.go): each score carries the
// evaluator's digest of the model; a submission's agreed digest is the
// one carried by more than half of its attesting stake, and a score
// without it is a disagreement. At the close, agreed submissions are
// visited by commit sequence and the first builder of a digest owns it
// (contest/digest/<id><digest>); another builder's submission of it is a
// copy. A breakthrough must also lie outside the tolerance band around
// the best, and one within tolerance of an earlier-committed breakthrough
// of the round is a near_copy: neither earns.
//
// # Agreement and rewards (end-block of the round's last block)
//
// For each scored submission, over the revealed attestations that did
// not abstain on it: if their recorded stake is at least quorum_ppm of
// the frozen set's stake, the agreed score is the lower stake-weighted
// median (values ascending; the first whose cumulative stake reaches
// half). A score agrees when |score - median| <= tolerance.absolute or
// <= tolerance.ppm of |median|. An attestation earns when it was revealed,
// agreed on at least one agreed submission and disagreed on none.
//
// Breakthroughs: agreed submissions whose improvement over the best score
// at the start of the round (the baseline at first), in the spec's
// direction, is at least max(min_improvement, 1), ranked by improvement
// (ties: earlier commit). The top one becomes the new best.
//
// Money: fresh = pool - carried shares. builders' pot = carried builders'
// share + split.builders of fresh, paid over the ranked breakthroughs by
// the reward curve (winner_take_all; top_k_geometric: weights 1, r, r², ...
// for the first k; proportional: to the improvement), or carried whole to
// the next round when there is none. The designer gets split.designer of
// fresh every round. Validators' pot = carried validators' share +
// split.validators of fresh, split among the earning attestations by
// recorded stake, or carried when none earns. Every division rounds down
// and its remainder stays in the pool (uncarried: it is split again next
// round). Payments go out with bank.PoolToAccount only.
//
// # Bounds
//
// At most MaxSubmissionsPerRound commits per round (MaxCommitsPerBuilder
// per sender) and one attestation per member, whose score vector has exactly one entry per scored submission,
// so closing a round is O(submissions × validators).
//
// # Store layout
//
// Under "contest/", integers big-endian:
//
//	contest/next_id                        next contest id
//	contest/c/<id>                         record: spec, status, start, best, carries, dataset CIDs, last result
//	contest/live/<id>                      liveEntry (start, schedule): the contests end-block visits
//	contest/seq/<id>                       next commit sequence number of the contest
//	contest/round/<id><round>              roundState: submissions count, frozen scored list and set, closed
//	contest/sub/<id><round><index u32>     Submission
//	contest/hash/<id><round><sender><hash>  index of the sender's submission with that commit hash
//	contest/owner/<id><multihash>          owner: the first committer of a model
//	contest/digest/<id><digest>            owner: the first committer of an agreed model digest
//	contest/att/<id><round><operator>      Attestation
//	contest/agreed/<id><round><index u32>  empty: agreed submissions (the leaderboard index)
//	contest/nsub/<id><round><sender>       commits of one sender in a round (at most MaxCommitsPerBuilder)
//
// The module holds no tokens itself (no ledger.Holder): a contest's tokens
// are in the bank pool PoolName(id), counted by bank.
//
// # Events
//
// contest_created, contest_retired, contest_commit, contest_reveal,
// contest_dataset_revealed, contest_attest_commit, contest_attest_reveal,
// contest_round_frozen, contest_round_closed.
//
// Threading: like every module, called by the ledger on one goroutine;
// queries run on read-only contexts.
package contest
