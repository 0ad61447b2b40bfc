// Package agent is the validator's contest evaluation agent, and a small
// builder routine for demos.
//
// On every committed height the Agent looks at each live contest whose
// current round has frozen a validator set containing the node's
// operator account (agent.Host.Account). In the round's attest_commit
// window it fetches every scored submission's model, the evaluation
// datasets and, for a Wasm evaluator, the module, all by CID through
// Host.Fetch; runs the evaluator; and sends contest/attest_commit with
// sha256(scores, salt, operator). In the attest_reveal window it sends
// contest/attest_reveal with the same scores and salt. A model or dataset
// that cannot be fetched, or an evaluator error of any kind, is an
// abstention for that submission (or for all of them), never a crash.
//
// Scores are computed on the sealed datasets when the spec has any (the
// held-out test set, once the designer has revealed it) and otherwise on
// every public dataset; with several datasets the score is the mean,
// rounded toward negative infinity. While a sealed dataset is still
// unrevealed the agent waits, until the last block of the attest_commit
// window, then abstains. Evaluation stops one block before the
// attest_commit window ends (the commit must still land): the submissions
// not evaluated by then are abstained on.
//
// The scores and salt of each commitment are kept in memory and written
// (atomically) to <dir>/attest-<contest>-<round>.json before the commit is
// sent, so a restarted node still reveals. Files of finished rounds are
// removed. A transaction that has not landed after ResendAfterBlocks is
// sent again (same content).
//
// Threading: Run owns the agent; Step is not safe for concurrent use.
package agent
