package attacks

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/inferd/inferd/contest/copytest"
	contestdemo "github.com/inferd/inferd/contest/demo"
	"github.com/inferd/inferd/contest/eval"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/contest"
	"github.com/inferd/inferd/node/api"
)

// The model thieves of the copy round, each its own account (in genesis),
// so that each one's balance change is its attack's alone.
var copyAccounts = []string{"rechunker", "reserialiser", "wrapper", "noiser", "frontrunner"}

// Noise of the near copy: 1% relative noise on every weight (seed 1)
// leaves the demo model's accuracy unchanged (930,000), under another
// digest. copyRound checks that it still does.
const (
	noiseSeed  = 1
	noiseScale = 0.01
)

// wrappedName is the contestFiles entry added as a directory holding the
// better model as its one file (addFiles: the "dir:" prefix).
const wrappedName = "dir:better"

// copyRound is one contest round in which the honest builder commits the
// better demo model and every thief tries to take part of its reward:
// the same CID (copier), the same bytes re-chunked, the same weights in
// another safetensors container, the model wrapped in a directory, the
// weights perturbed below the tolerance, and a front-runner that copies
// the builder's commit hash from the mempool and replays its reveal. The
// contest pays the top 5 geometrically (attackSpec), so every undetected
// copy that ties the original would be paid a share: the thieves' best
// case is to commit in the same round, after the original (they have the
// bytes: the builder published them, or they leaked).
type copyRound struct {
	round    uint64
	end      uint64 // the height the round closed at
	pot      uint64 // the builders' pot it paid
	honest   *commitReveal
	front    *sender
	subs     map[keys.Address]contest.Submission
	thieves  map[string]*commitReveal
	start    map[keys.Address]uint64 // balances before the round
	seqOrder []keys.Address          // builders of the scored-and-agreed, by commit
}

// thiefModels adds each thief's model to node 1's store over the API (the
// thieves publish from their own node) and returns the CIDs.
func thiefModels(t *testing.T, d *devnet) map[string]cid.Cid {
	better := contestdemo.BetterModel(demoSeed)
	re, err := copytest.Reserialise(better)
	if err != nil {
		t.Fatal(err)
	}
	noisy, err := copytest.Perturb(better, noiseSeed, noiseScale)
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := eval.Builtin("mlp-accuracy")
	data := contestdemo.Dataset(demoSeed)
	s0, _ := ev.Evaluate(context.Background(), better, data)
	sn, _ := ev.Evaluate(context.Background(), noisy, data)
	dn, _ := eval.ModelDigest(noisy)
	d0, _ := eval.ModelDigest(better)
	if s0 != sn || bytes.Equal(dn, d0) {
		t.Fatalf("the near copy should score as the original (%d, %d) under another digest", s0, sn)
	}
	add := func(b []byte, chunker string) cid.Cid {
		r, err := d.cls[1].ContentAdd(context.Background(), bytes.NewReader(b), api.ContentAddOptions{Chunker: chunker})
		if err != nil {
			t.Fatal(err)
		}
		c, err := cid.Decode(r.CID)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	out := map[string]cid.Cid{
		"rechunker":    add(better, "size-64"), // 64-byte leaves instead of one
		"reserialiser": add(re, ""),
		"wrapper":      d.files[wrappedName],
		"noiser":       add(noisy, ""),
	}
	for name, c := range out {
		if c.Equals(d.files["better"]) || bytes.Equal(c.Hash(), d.files["better"].Hash()) {
			t.Fatalf("%s's copy has the original's CID %s", name, c)
		}
	}
	return out
}

// sendAll sends each sender's msg concurrently (different accounts) and
// returns each one's error.
func sendAll(s []*sender, msgs []ledger.Msg) []error {
	errs := make([]error, len(s))
	var wg sync.WaitGroup
	for i := range s {
		wg.Go(func() { _, errs[i] = s[i].send(msgs[i]) })
	}
	wg.Wait()
	return errs
}

func playCopyRound(t *testing.T, d *devnet, c contest.ContestInfo) *copyRound {
	ctx := context.Background()
	models := thiefModels(t, d)
	cr := &copyRound{
		honest:  &commitReveal{s: d.sender("builder"), model: d.files["better"]},
		thieves: map[string]*commitReveal{"copier": {s: d.sender("copier"), model: d.files["better"]}},
		start:   map[keys.Address]uint64{},
		subs:    map[keys.Address]contest.Submission{},
	}
	for name, m := range models {
		cr.thieves[name] = &commitReveal{s: d.sender(name), model: m}
	}
	front := d.sender("frontrunner")
	cr.front = front
	var ri contest.RoundInfo
	if err := poll(2*time.Minute, func() (bool, error) {
		r, err := d.cl.Contest(ctx, c.ID, api.Latest)
		if err != nil {
			return false, err
		}
		ri = r.Round
		// Room for three blocks of commits.
		return ri.Height >= ri.Commit.Start && ri.Height+5 <= ri.Commit.End, nil
	}); err != nil {
		t.Fatal(err)
	}
	cr.round = ri.Round
	h0 := d.height()
	for _, s := range append([]*sender{cr.honest.s, front}, senders(cr.thieves)...) {
		cr.start[s.addr] = d.balance(s.addr, h0)
	}
	// The front-runner saw the builder's commit in the mempool and got
	// the same hash into a block first.
	cr.honest.salt = make([]byte, 16)
	rand.Read(cr.honest.salt)
	hash := contest.CommitHash(cr.honest.model, cr.honest.salt, cr.honest.s.addr)
	front.mustSend(ledger.NewMsg(contest.MsgTypeCommit, contest.MsgCommit{Contest: c.ID, Round: ri.Round, Hash: hash}))
	cr.honest.s.mustSend(ledger.NewMsg(contest.MsgTypeCommit, contest.MsgCommit{Contest: c.ID, Round: ri.Round, Hash: hash}))
	// The thieves commit after the original (their best case: the
	// earliest commit owns a model and wins ties).
	var ts []*sender
	var msgs []ledger.Msg
	for _, th := range cr.thieves {
		th.salt = make([]byte, 16)
		rand.Read(th.salt)
		ts = append(ts, th.s)
		msgs = append(msgs, ledger.NewMsg(contest.MsgTypeCommit, contest.MsgCommit{Contest: c.ID, Round: ri.Round, Hash: contest.CommitHash(th.model, th.salt, th.s.addr)}))
	}
	for i, err := range sendAll(ts, msgs) {
		if err != nil {
			t.Fatalf("%s's commit: %v", ts[i].name, err)
		}
	}
	d.waitHeight(ri.Reveal.Start, 2*time.Minute)
	cr.honest.reveal(t, c.ID, ri.Round)
	// The front-runner replays the builder's reveal (it now knows the CID
	// and salt): its commit was the builder's hash, bound to the builder.
	if _, err := front.send(ledger.NewMsg(contest.MsgTypeReveal, contest.MsgReveal{Contest: c.ID, Round: ri.Round, Model: cr.honest.model.String(), Salt: cr.honest.salt})); err == nil {
		t.Fatal("the front-runner opened the builder's commit")
	} else {
		t.Logf("front-runner's replayed reveal: %v", err)
	}
	// ... and tries a commit of its own of the revealed CID: too late.
	fs := make([]byte, 16)
	rand.Read(fs)
	if _, err := front.send(ledger.NewMsg(contest.MsgTypeCommit, contest.MsgCommit{Contest: c.ID, Round: ri.Round, Hash: contest.CommitHash(cr.honest.model, fs, front.addr)})); err == nil {
		t.Fatal("a commit landed in the reveal window")
	} else {
		t.Logf("front-runner's late commit: %v", err)
	}
	msgs = msgs[:0]
	for _, s := range ts {
		th := cr.thieves[s.name]
		msgs = append(msgs, ledger.NewMsg(contest.MsgTypeReveal, contest.MsgReveal{Contest: c.ID, Round: ri.Round, Model: th.model.String(), Salt: th.salt}))
	}
	for i, err := range sendAll(ts, msgs) {
		if err != nil {
			t.Fatalf("%s's reveal: %v", ts[i].name, err)
		}
	}
	var last api.ContestResponse
	if err := poll(3*time.Minute, func() (bool, error) {
		var err error
		last, err = d.cl.Contest(ctx, c.ID, api.Latest)
		return err == nil && last.LastRound != nil && last.LastRound.Round >= ri.Round, nil
	}); err != nil {
		t.Fatalf("round %d did not close: %v", ri.Round, err)
	}
	cr.end, cr.pot = last.LastRound.Height, last.LastRound.BuildersPot
	subs, err := d.cl.ContestSubmissions(ctx, c.ID, ri.Round, cr.end)
	if err != nil {
		t.Fatal(err)
	}
	type seq struct {
		b keys.Address
		n uint64
	}
	var order []seq
	for _, s := range subs.Submissions {
		if s.Builder == front.addr && s.Status == contest.StatusUnrevealed {
			continue // the squatted hash, never opened
		}
		if _, dup := cr.subs[s.Builder]; dup {
			t.Fatalf("two submissions of %s: %+v", s.Builder, subs.Submissions)
		}
		cr.subs[s.Builder] = s
		score := "none"
		if s.AgreedScore != nil {
			score = fmt.Sprint(*s.AgreedScore)
		}
		t.Logf("submission %d by %s: %s copy_of=%v score=%s digest=%x rank %d reward %d", s.Index, s.Builder, s.Status, s.CopyOf, score, s.Digest, s.Rank, s.Reward)
		if s.AgreedScore != nil {
			order = append(order, seq{s.Builder, s.CommitSeq})
		}
	}
	for i := range order { // by commit: the tie order had the copies been paid
		for j := i + 1; j < len(order); j++ {
			if order[j].n < order[i].n {
				order[i], order[j] = order[j], order[i]
			}
		}
		cr.seqOrder = append(cr.seqOrder, order[i].b)
	}
	hs, ok := cr.subs[cr.honest.s.addr]
	if !ok || hs.Status != contest.StatusAgreed || hs.Rank != 1 || hs.Reward != cr.pot {
		t.Fatalf("the honest builder should take the whole builders' pot %d: %+v", cr.pot, hs)
	}
	hb := cr.honest.s.addr
	if got := int64(d.balance(hb, cr.end)) - int64(cr.start[hb]); got != int64(hs.Reward)-int64(cr.honest.s.fees) {
		t.Fatalf("honest moved %d, want reward %d - fees %d", got, hs.Reward, cr.honest.s.fees)
	}
	return cr
}

// frontRun is the front-runner's outcome: it squatted the builder's
// commit hash and replayed its reveal. Had commits not bound the sender,
// its earlier commit would have owned the model and taken the pot.
func (cr *copyRound) frontRun(t *testing.T, d *devnet) outcome {
	if s, ok := cr.subs[cr.front.addr]; ok {
		t.Errorf("the front-runner has a submission: %+v", s)
	}
	o := cr.outcome(t, d, cr.front, "front-running builder",
		"commit hash = sha256(CID, salt, sender): a squatted hash opens only for its sender; commits close before reveals")
	o.planted = o.attacker + int64(cr.pot)
	return o
}

func senders(m map[string]*commitReveal) []*sender {
	var out []*sender
	for _, cr := range m {
		out = append(out, cr.s)
	}
	return out
}

// tieShare is what builder a would have been paid had every agreed
// submission of the round been a breakthrough tied with the original
// (no copy rules): the top-5 geometric weights in commit order.
func (cr *copyRound) tieShare(a keys.Address) uint64 {
	w := make([]uint64, len(cr.seqOrder))
	g := uint64(1_000_000_000_000)
	for i := range w {
		if i < 5 {
			w[i] = g
			g /= 2
		}
	}
	shares, _ := ledger.SplitProRata(cr.pot, w)
	for i, b := range cr.seqOrder {
		if b == a {
			return shares[i]
		}
	}
	// Not scored (the wrapped copy): as the next in line, had validators
	// unwrapped it.
	w = append(w, g)
	shares, _ = ledger.SplitProRata(cr.pot, w)
	return shares[len(w)-1]
}

// thief is the outcome of one thief of the round: it must have moved by
// exactly its fees (no reward), with its submission in status want.
func (cr *copyRound) thief(t *testing.T, d *devnet, name, attack, want, defence string) outcome {
	th := cr.thieves[name]
	s := cr.subs[th.s.addr]
	if s.Status != want || s.Reward != 0 {
		t.Errorf("%s: submission %s (want %s), reward %d: %+v", name, s.Status, want, s.Reward, s)
	}
	if want == contest.StatusCopy || want == contest.StatusNearCopy {
		if s.CopyOf == nil || *s.CopyOf != cr.honest.s.addr {
			t.Errorf("%s: copy_of %v, want the builder %s", name, s.CopyOf, cr.honest.s.addr)
		}
	}
	return cr.outcome(t, d, th.s, attack, defence)
}

func (cr *copyRound) outcome(t *testing.T, d *devnet, s *sender, attack, defence string) outcome {
	hb := cr.honest.s.addr
	o := outcome{attack: attack,
		attacker:   int64(d.balance(s.addr, cr.end)) - int64(cr.start[s.addr]),
		honest:     int64(d.balance(hb, cr.end)) - int64(cr.start[hb]),
		defendedBy: defence,
	}
	o.check = func(a int64) error {
		if a != -int64(s.fees) {
			return fmt.Errorf("%s moved %d, want -%d (its fees, no reward)", s.name, a, s.fees)
		}
		return nil
	}
	if err := o.check(o.attacker); err != nil {
		t.Fatal(err)
	}
	o.exact = true
	o.planted = o.attacker + int64(cr.tieShare(s.addr))
	o.attackerProfits = o.attacker > 0
	return o
}

// sameCID is the copier's outcome: it committed the original's CID after
// the builder; the reveal marks it copy (multihash ownership) and it is
// not scored.
func (cr *copyRound) sameCID(t *testing.T, d *devnet) outcome {
	return cr.thief(t, d, "copier", "model copy (same CID)", contest.StatusCopy,
		"first-commit ownership by multihash (contest copy rule); commit hashes bind the sender")
}

// runCopyAttacks plays the copy round once (in the first sub-test) and
// reports each thief as its own attack.
func runCopyAttacks(d *devnet, c contest.ContestInfo, run func(string, func(*testing.T) outcome)) {
	var cr *copyRound
	round := func(t *testing.T) *copyRound {
		if cr == nil {
			cr = playCopyRound(t, d, c)
		}
		return cr
	}
	run("model_copy", func(t *testing.T) outcome { return round(t).sameCID(t, d) })
	run("model_copy_rechunked", func(t *testing.T) outcome {
		return round(t).thief(t, d, "rechunker", "model copy (re-chunked)", contest.StatusCopy,
			"digest copy rule: validators attest the digest of the file's bytes (any chunking); the first committer of a digest owns it")
	})
	run("model_copy_reserialised", func(t *testing.T) outcome {
		return round(t).thief(t, d, "reserialiser", "model copy (re-serialised)", contest.StatusCopy,
			"digest copy rule: the built-in evaluators digest the canonical safetensors of the decoded weights")
	})
	run("model_copy_wrapped", func(t *testing.T) outcome {
		return round(t).thief(t, d, "wrapper", "model copy (in a directory)", contest.StatusNoQuorum,
			"a directory is not a model: validators abstain, no quorum, no score")
	})
	run("model_copy_noisy", func(t *testing.T) outcome {
		return round(t).thief(t, d, "noiser", "near copy (1% noise)", contest.StatusNearCopy,
			"near-copy rule: a breakthrough within tolerance of an earlier-committed one earns nothing (tolerance: spec)")
	})
	run("front_run", func(t *testing.T) outcome { return round(t).frontRun(t, d) })
	run("lazy_validator", func(t *testing.T) outcome { return round(t).lazyValidator(t, d, c.ID) })
}
