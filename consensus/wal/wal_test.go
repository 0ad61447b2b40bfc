package wal

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
)

const chainID = "test-chain"

type detReader struct{ r *rand.Rand }

func (d detReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(d.r.Uint32())
	}
	return len(p), nil
}

type val struct {
	addr keys.Address
	priv keys.PrivKey
}

func setup(t *testing.T, n int) ([]val, *consensus.ValidatorSet) {
	t.Helper()
	r := detReader{rand.New(rand.NewPCG(7, 7))}
	var vs []val
	var cv []consensus.Validator
	for i := 0; i < n; i++ {
		pub, priv, err := keys.Generate(r)
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, val{keys.AddressOf(pub), priv})
		cv = append(cv, consensus.Validator{Address: keys.AddressOf(pub), PubKey: pub, Power: 10})
	}
	set, err := consensus.NewValidatorSet(cv)
	if err != nil {
		t.Fatal(err)
	}
	return vs, set
}

func privOf(vs []val, a keys.Address) keys.PrivKey {
	for _, v := range vs {
		if v.addr == a {
			return v.priv
		}
	}
	return nil
}

func st(h uint64, r int32) consensus.State {
	return consensus.State{Height: h, Round: r, Step: consensus.StepPrevote, LockedRound: -1, ValidRound: -1,
		LastSigned: consensus.SignedRecord{Height: h, Round: r, Step: consensus.StepPrevote, POLRound: -1}}
}

func TestTornTailTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wal")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for r := int32(0); r < 3; r++ {
		if err := w.Persist(st(5, r), nil); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	full, _ := os.ReadFile(path)
	// Append half of a fourth record: a write torn by a crash.
	frame := encodeFrame(&record{State: st(5, 3)})
	if err := os.WriteFile(path, append(full, frame[:len(frame)/2]...), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err = Open(path)
	if err != nil {
		t.Fatalf("torn tail must be truncated, got %v", err)
	}
	if s, ok := w.State(); !ok || s.Round != 2 {
		t.Fatalf("state after torn tail: %+v %v, want round 2", s, ok)
	}
	if fi, _ := os.Stat(path); fi.Size() != int64(len(full)) {
		t.Fatalf("file is %d bytes, want truncated to %d", fi.Size(), len(full))
	}
	// A last record with a bad checksum (torn inside the body) is also a tail.
	if err := w.Persist(st(5, 3), nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	data, _ := os.ReadFile(path)
	data[len(data)-1] ^= 0xff
	os.WriteFile(path, data, 0o600)
	w, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := w.State(); s.Round != 2 {
		t.Fatalf("damaged last record not dropped: %+v", s)
	}
	// And appending after recovery works.
	if err := w.Persist(st(6, 0), nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	w, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := w.State(); s.Height != 6 {
		t.Fatalf("append after recovery lost: %+v", s)
	}
	w.Close()
}

func TestMiddleCorruption(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wal")
	w, _ := Open(path)
	for r := int32(0); r < 3; r++ {
		if err := w.Persist(st(5, r), nil); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	data, _ := os.ReadFile(path)
	data[headerLen+2] ^= 0x01 // inside the first record's body
	os.WriteFile(path, data, 0o600)
	if _, err := Open(path); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("middle corruption: got %v, want ErrCorrupt", err)
	}
	// A huge length field is corruption too, not a torn tail.
	data[headerLen+2] ^= 0x01
	data[0] = 0xff
	os.WriteFile(path, data, 0o600)
	if _, err := Open(path); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("bad length: got %v, want ErrCorrupt", err)
	}
}

func TestCompaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wal")
	defer func(old int64) { compactAt = old }(compactAt)
	compactAt = 1024
	w, _ := Open(path)
	for r := int32(0); r < 300; r++ {
		if err := w.Persist(st(1, r%MaxRoundForTest), nil); err != nil {
			t.Fatal(err)
		}
		if w.size > compactAt {
			t.Fatalf("log grew to %d", w.size)
		}
	}
	w.Close()
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := w.State(); s.Round != (300-1)%MaxRoundForTest {
		t.Fatalf("after compaction: %+v", s)
	}
	w.Close()
}

const MaxRoundForTest = 1000

// TestRestartNoDoubleSign: a validator prevotes and precommits (locking), its
// process dies, it restarts from the WAL: it resumes its round and lock,
// does not vote again at the same step, and its guard refuses conflicting
// messages.
func TestRestartNoDoubleSign(t *testing.T) {
	vs, set := setup(t, 4)
	path := filepath.Join(t.TempDir(), "wal")
	prop := set.Validator(set.ProposerIndex(0)).Address
	var self keys.Address
	for _, v := range vs {
		if v.addr != prop {
			self = v.addr
			break
		}
	}
	cfg := consensus.Config{Self: self}
	w, _ := Open(path)
	signer := NewSigner(w, privOf(vs, self), chainID)
	m, _ := consensus.NewMachine(cfg, 1, set, nil)
	var signed []consensus.Message
	drive := func(m *consensus.Machine, acts []consensus.Action) {
		for len(acts) > 0 {
			a := acts[0]
			acts = acts[1:]
			var more []consensus.Action
			switch a := a.(type) {
			case consensus.SignAndSend:
				msg, err := signer.Sign(a)
				if err != nil {
					t.Fatalf("sign %s: %v", consensus.MessageString(a.Msg), err)
				}
				signed = append(signed, msg)
				more, _ = m.Step(msg)
			case consensus.ValidateBlock:
				more, _ = m.Step(consensus.BlockValidated{Height: a.Height, BlockID: a.BlockID, Valid: true})
			}
			acts = append(acts, more...)
		}
	}
	step := func(m *consensus.Machine, in consensus.Input) {
		acts, err := m.Step(in)
		if err != nil {
			t.Fatalf("step: %v", err)
		}
		drive(m, acts)
	}
	drive(m, m.Start())
	block := consensus.BlockID{1, 2, 3}
	p := &consensus.Proposal{Height: 1, Round: 0, POLRound: -1, BlockID: block, Proposer: prop}
	consensus.Sign(privOf(vs, prop), chainID, p)
	step(m, p)
	for _, v := range vs {
		if v.addr == self {
			continue
		}
		pv := &consensus.Vote{Type: consensus.Prevote, Height: 1, Round: 0, BlockID: block, Validator: v.addr}
		consensus.Sign(v.priv, chainID, pv)
		step(m, pv)
	}
	if len(signed) != 2 {
		t.Fatalf("signed %d messages, want prevote and precommit", len(signed))
	}
	// Crash: the process dies; only the WAL survives.
	w.Close()
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	restored, ok := w.State()
	if !ok || restored.LockedRound != 0 || restored.LockedBlock != block || restored.Step != consensus.StepPrecommit || len(restored.ValidPOL) < 3 {
		t.Fatalf("restored %+v", restored)
	}
	if last := w.LastSigned(); last == nil || consensus.RecordOf(last) != consensus.RecordOf(signed[1]) {
		t.Fatalf("last signed message not restored")
	}
	signer = NewSigner(w, privOf(vs, self), chainID)
	signed = nil
	m, err = consensus.NewMachine(cfg, 1, set, &restored)
	if err != nil {
		t.Fatal(err)
	}
	drive(m, m.Start())
	if got := len(m.Votes(0, consensus.Prevote)); got != len(restored.ValidPOL) {
		t.Fatalf("proof-of-lock not restored: %d prevotes of round 0", got)
	}
	if len(signed) != 0 || m.Round() != 0 || m.CurrentStep() != consensus.StepPrecommit {
		t.Fatalf("after restart: signed %d, round %d step %s", len(signed), m.Round(), m.CurrentStep())
	}
	// The guard refuses a conflicting precommit and an older prevote.
	for _, bad := range []consensus.Message{
		&consensus.Vote{Type: consensus.Precommit, Height: 1, Round: 0, Validator: self},
		&consensus.Vote{Type: consensus.Prevote, Height: 1, Round: 0, BlockID: block, Validator: self},
	} {
		st := restored
		st.LastSigned = consensus.RecordOf(bad)
		if _, err := signer.Sign(consensus.SignAndSend{Msg: bad, State: st}); !errors.Is(err, consensus.ErrDoubleSign) {
			t.Fatalf("guard let %s through: %v", consensus.MessageString(bad), err)
		}
	}
	// The lock survives: in round 1 a fresh proposal of another block gets a nil prevote.
	step(m, consensus.Timeout{Height: 1, Round: 0, Step: consensus.StepPrecommit})
	prop1 := set.Validator(set.ProposerIndex(1)).Address
	other := consensus.BlockID{9}
	if prop1 != self {
		p1 := &consensus.Proposal{Height: 1, Round: 1, POLRound: -1, BlockID: other, Proposer: prop1}
		consensus.Sign(privOf(vs, prop1), chainID, p1)
		step(m, p1)
		if len(signed) != 1 || signed[0].(*consensus.Vote).BlockID != consensus.NilBlock {
			t.Fatalf("locked validator prevoted %v", signed)
		}
	} else if len(signed) != 1 || signed[0].(*consensus.Proposal).BlockID != block {
		t.Fatalf("locked proposer must re-propose its valid block, signed %v", signed)
	}
	w.Close()
}

// TestRestartResendsSameProposal: a proposer that crashes after signing its
// proposal re-sends exactly the same signed proposal, never a new block.
func TestRestartResendsSameProposal(t *testing.T) {
	vs, set := setup(t, 4)
	path := filepath.Join(t.TempDir(), "wal")
	self := set.Validator(set.ProposerIndex(0)).Address
	cfg := consensus.Config{Self: self}
	w, _ := Open(path)
	signer := NewSigner(w, privOf(vs, self), chainID)
	m, _ := consensus.NewMachine(cfg, 1, set, nil)
	var first consensus.Message
	for _, a := range m.Start() {
		if rp, ok := a.(consensus.RequestProposal); ok {
			acts, _ := m.Step(consensus.ProposalBlock{Height: rp.Height, Round: rp.Round, BlockID: consensus.BlockID{7}})
			for _, a := range acts {
				if s, ok := a.(consensus.SignAndSend); ok && first == nil {
					msg, err := signer.Sign(s)
					if err != nil {
						t.Fatal(err)
					}
					first = msg
				}
			}
		}
	}
	if first == nil {
		t.Fatal("proposer did not propose")
	}
	w.Close() // crash before anything else
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	st, _ := w.State()
	signer = NewSigner(w, privOf(vs, self), chainID)
	m, _ = consensus.NewMachine(cfg, 1, set, &st)
	var again consensus.Message
	for _, a := range m.Start() {
		switch a := a.(type) {
		case consensus.RequestProposal:
			t.Fatal("restarted proposer asked for a new block")
		case consensus.SignAndSend:
			msg, err := signer.Sign(a)
			if err != nil {
				t.Fatal(err)
			}
			again = msg
		}
	}
	if again == nil || string(consensus.EncodeMessage(again)) != string(consensus.EncodeMessage(first)) {
		t.Fatalf("re-sent %v, want the identical signed proposal", again)
	}
	// A different block for the same round is refused by the guard.
	p := *again.(*consensus.Proposal)
	p.BlockID = consensus.BlockID{8}
	st2 := st
	st2.LastSigned = consensus.RecordOf(&p)
	if _, err := signer.Sign(consensus.SignAndSend{Msg: &p, State: st2}); !errors.Is(err, consensus.ErrDoubleSign) {
		t.Fatalf("conflicting proposal: %v", err)
	}
}
