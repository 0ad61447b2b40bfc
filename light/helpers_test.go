package light

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/store"
	"github.com/inferd/inferd/node/blocks"
)

const testChain = "light-test"

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// kv is a ledger module that writes "k/<i>" keys: 200 at genesis, and at
// every block sets 5 and deletes 3, chosen from the height.
type kv struct{}

func (kv) Name() string                                           { return "kv" }
func (kv) MsgTypes() []string                                     { return nil }
func (kv) ValidateGenesis(*ledger.Genesis) error                  { return nil }
func (kv) Handle(*ledger.Context, keys.Address, ledger.Msg) error { return errors.New("no messages") }
func (kv) EndBlock(*ledger.Context) error                         { return nil }
func (kv) ChargeFee(*ledger.Context, keys.Address, uint64) error  { return nil }
func (kv) MinFee(*ledger.Context) uint64                          { return 0 }

func kvKey(i uint64) []byte { return []byte(fmt.Sprintf("k/%d", i)) }

func (kv) InitGenesis(ctx *ledger.Context, _ *ledger.Genesis) error {
	for i := uint64(0); i < 200; i++ {
		ctx.Set(kvKey(i), []byte(fmt.Sprintf("value %d", i)))
	}
	for _, k := range bucketZeroKeys() {
		ctx.Set(k, []byte("in bucket 0 with two others"))
	}
	return nil
}

// bucketZeroKeys are three keys whose hashes fall in bucket 0, so that a
// proof holds several leaves.
func bucketZeroKeys() [][]byte {
	var out [][]byte
	for j := 0; len(out) < 3; j++ {
		k := []byte(fmt.Sprintf("b/%d", j))
		if h := sha256.Sum256(k); h[0] == 0 && h[1] == 0 {
			out = append(out, k)
		}
	}
	return out
}

func (kv) BeginBlock(ctx *ledger.Context, b *ledger.BlockInfo) error {
	for j := uint64(0); j < 8; j++ {
		k := kvKey((b.Height*37 + j*11) % 300)
		if j < 3 {
			ctx.Delete(k)
		} else {
			ctx.Set(k, binary.BigEndian.AppendUint64(nil, b.Height))
		}
	}
	return nil
}

// kvState is a ledger at height n.
func kvState(t *testing.T, n uint64) *ledger.State {
	t.Helper()
	s, err := ledger.New(store.NewMem(), []ledger.Module{kv{}}, kv{}, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := &ledger.Genesis{ChainID: testChain, GenesisTime: t0,
		Validators: []ledger.GenesisValidator{{Operator: keys.Address{1}, ConsPubKey: make([]byte, 32), Moniker: "v", SelfBond: 1}}}
	if _, err := s.InitGenesis(g); err != nil {
		t.Fatal(err)
	}
	for h := uint64(1); h <= n; h++ {
		if _, err := s.ApplyBlock(&ledger.Block{Height: h, Time: t0.Add(time.Duration(h) * time.Second).UnixNano(), Proposer: keys.Address{1}}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// signer is a validator with its key.
type signer struct {
	priv  keys.PrivKey
	val   consensus.Validator
	label string
}

// newSigners makes validators named by label, each with its power; the
// key is derived from the label, so one label is one validator everywhere.
func newSigners(t *testing.T, powers map[string]int64) map[string]signer {
	t.Helper()
	out := map[string]signer{}
	for label, p := range powers {
		seed := sha256.Sum256([]byte("light-test/" + label))
		priv, err := keys.FromSeed(seed[:])
		if err != nil {
			t.Fatal(err)
		}
		pub := priv.Public().(keys.PubKey)
		out[label] = signer{priv: priv, label: label, val: consensus.Validator{Address: keys.AddressOf(pub), PubKey: pub, Power: p}}
	}
	return out
}

func setOf(t *testing.T, ss map[string]signer) *consensus.ValidatorSet {
	t.Helper()
	var vs []consensus.Validator
	for _, s := range ss {
		vs = append(vs, s.val)
	}
	set, err := consensus.NewValidatorSet(vs)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// lightBlock builds the block of height h for the set ss, with the
// commit signed by the validators named in signedBy.
func lightBlock(t *testing.T, h uint64, at time.Time, appHash [32]byte, ss map[string]signer, signedBy ...string) *LightBlock {
	t.Helper()
	set := setOf(t, ss)
	hdr := blocks.Header{ChainID: testChain, Height: h, Time: at.UnixNano(), AppHash: appHash, Proposer: set.Validator(0).Address, ValidatorsHash: set.Hash()}
	if h > 1 {
		hdr.LastBlockHash = consensus.BlockID{1}
	}
	id := hdr.Hash()
	var votes []*consensus.Vote
	for _, label := range signedBy {
		s, ok := ss[label]
		if !ok {
			t.Fatalf("no validator %q", label)
		}
		v := &consensus.Vote{Type: consensus.Precommit, Height: h, Round: 0, BlockID: id, Validator: s.val.Address}
		consensus.Sign(s.priv, testChain, v)
		votes = append(votes, v)
	}
	return &LightBlock{Header: hdr, Commit: blocks.MakeCommit(h, 0, id, votes), Validators: set}
}

func sub(ss map[string]signer, labels ...string) map[string]signer {
	out := map[string]signer{}
	for _, l := range labels {
		out[l] = ss[l]
	}
	return out
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got %v, want %v", err, want)
	}
	for _, other := range allErrors {
		if other != want && errors.Is(err, other) {
			t.Fatalf("%v wraps %v as well as %v", err, other, want)
		}
	}
}

var allErrors = []error{ErrMalformed, ErrKeyMismatch, ErrValueMismatch, ErrProofMismatch, ErrHeaderMismatch, ErrBadSignature,
	ErrValidatorSetMismatch, ErrInsufficientPower, ErrInsufficientTrust, ErrTrustExpired, ErrNotAfterTrusted}
