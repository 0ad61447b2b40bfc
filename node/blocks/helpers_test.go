package blocks

import (
	"bytes"
	"errors"
	"math/rand"
	"testing"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
)

const chainID = "test-chain"

// testVals is a validator set with the private keys behind it.
type testVals struct {
	set  *consensus.ValidatorSet
	priv map[keys.Address]keys.PrivKey
}

func newVals(t testing.TB, seed int64, powers ...int64) *testVals {
	t.Helper()
	r := rand.New(rand.NewSource(seed))
	tv := &testVals{priv: map[keys.Address]keys.PrivKey{}}
	var vs []consensus.Validator
	for _, p := range powers {
		pub, priv, err := keys.Generate(r)
		if err != nil {
			t.Fatal(err)
		}
		a := keys.AddressOf(pub)
		tv.priv[a] = priv
		vs = append(vs, consensus.Validator{Address: a, PubKey: pub, Power: p})
	}
	set, err := consensus.NewValidatorSet(vs)
	if err != nil {
		t.Fatal(err)
	}
	tv.set = set
	return tv
}

// proof is validator i's beacon proof for height over a zero previous
// beacon.
func (tv *testVals) proof(i int, height uint64) []byte {
	return ProveBeacon(tv.priv[tv.addr(i)], chainID, height, make([]byte, 32))
}

// addr is the address of the i-th validator in set order.
func (tv *testVals) addr(i int) keys.Address { return tv.set.Validator(i).Address }

func (tv *testVals) precommit(i int, height uint64, round int32, id consensus.BlockID) *consensus.Vote {
	v := &consensus.Vote{Type: consensus.Precommit, Height: height, Round: round, BlockID: id, Validator: tv.addr(i)}
	consensus.Sign(tv.priv[v.Validator], chainID, v)
	return v
}

// commit signs id at height by the validators at the given set indexes.
func (tv *testVals) commit(height uint64, id consensus.BlockID, signers ...int) Commit {
	var votes []*consensus.Vote
	for _, i := range signers {
		votes = append(votes, tv.precommit(i, height, 0, id))
	}
	return MakeCommit(height, 0, id, votes)
}

// duplicateVote is evidence that validator i precommitted two blocks.
func (tv *testVals) duplicateVote(i int, height uint64) []byte {
	a := tv.precommit(i, height, 0, consensus.BlockID{1})
	b := tv.precommit(i, height, 0, consensus.BlockID{2})
	return consensus.NewDuplicateVoteEvidence(a, b).Encode()
}

func signedTxs(t testing.TB, seed int64, n int) [][]byte {
	t.Helper()
	r := rand.New(rand.NewSource(seed))
	_, priv, _ := keys.Generate(r)
	var to keys.Address
	r.Read(to[:])
	var out [][]byte
	for i := 0; i < n; i++ {
		_, raw := ledger.SignTx(chainID, priv, uint64(i), 10, "", ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: to, Amount: uint64(i + 1)}))
		out = append(out, raw)
	}
	return out
}

// chain2 returns block 1 and block 2 (with 3 txs, evidence and the commit of
// block 1 signed by validators 0, 1 and 2 of tv).
func chain2(t testing.TB, tv *testVals) (*Block, *Block) {
	t.Helper()
	b1 := NewBlock(Header{ChainID: chainID, Height: 1, Time: 1e9, Proposer: tv.addr(0), ValidatorsHash: ValidatorsHash(tv.set), BeaconProof: tv.proof(0, 1)}, signedTxs(t, 1, 2), nil, Commit{})
	c1 := tv.commit(1, b1.Hash(), 0, 1, 2)
	b2 := NewBlock(Header{ChainID: chainID, Height: 2, Time: 2e9, LastBlockHash: b1.Hash(), AppHash: [32]byte{9}, Proposer: tv.addr(1), ValidatorsHash: ValidatorsHash(tv.set), BeaconProof: tv.proof(1, 2)},
		signedTxs(t, 2, 3), [][]byte{tv.duplicateVote(3, 1)}, c1)
	return b1, b2
}

func mustFail(t *testing.T, err error, target error, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: accepted, want %v", what, target)
	}
	if target != nil && !errors.Is(err, target) {
		t.Fatalf("%s: error %v, want %v", what, err, target)
	}
}

var _ = bytes.Equal
