package agent

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/compute/challenge"
	"github.com/inferd/inferd/compute/merkle"
	"github.com/inferd/inferd/compute/spotcheck"
	"github.com/inferd/inferd/keys"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
)

// WireVersion is the version of RowsMsg.
const WireVersion = 1

// Bounds on a rows message, checked before and after decoding. The
// largest honest message is MaxK rows of the largest tier: 64 * 8192 * 4
// bytes = 2 MiB of values plus 64 * 13 proof hashes, under the gossip
// limit of 4 MiB, so one message always carries a whole answer.
const (
	MaxRowsMsgBytes = 4 << 20
	maxTierN        = 8192
	maxProofLen     = 64
)

// rowsDecMode is codec's decoding mode with arrays capped at maxArray
// elements (the rows, and each row's proof, are bounded so): a message
// claiming more is refused from its header, before anything is allocated
// for the elements (codec's own cap is 2^20, which let a 4 MiB message of
// about a million empty rows cost ~100 MB and over a second to refuse).
var rowsDecMode cbor.DecMode

const maxArray = max(ledgercompute.MaxK, maxProofLen, 5)

func init() {
	var err error
	rowsDecMode, err = cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		MaxNestedLevels:   codec.MaxNestedLevels,
		MaxArrayElements:  maxArray,
		MaxMapPairs:       16,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
	}.DecMode()
	if err != nil {
		panic(err)
	}
}

// ErrBadMessage is wrapped by every error decoding a rows message.
var ErrBadMessage = errors.New("compute agent: bad rows message")

// RowsMsg is what a provider publishes on agent.TopicCompute once its rows
// are selected: the k selected rows of C with their Merkle proofs. It is
// canonical CBOR (codec), an array of the fields in order.
type RowsMsg struct {
	_        struct{} `cbor:",toarray"`
	Version  uint8
	Provider keys.Address
	Epoch    uint64
	Root     []byte // the committed root, 32 bytes
	Rows     []Row
}

// Row is one opened row: its index, its n int32 values (little-endian, 4n
// bytes, the same bytes the leaf hash covers) and its audit path.
type Row struct {
	_      struct{} `cbor:",toarray"`
	Index  uint32
	Values []byte
	Proof  [][]byte
}

// EncodeRows builds the message for rows idx of c (n x n) committed by t.
func EncodeRows(prov keys.Address, epoch uint64, c []int32, n int, t *merkle.Tree, idx []int) []byte {
	rows, proofs := spotcheck.Answer(c, n, t, idx)
	root := t.Root()
	m := RowsMsg{Version: WireVersion, Provider: prov, Epoch: epoch, Root: root[:]}
	for _, i := range idx {
		vals := make([]byte, 4*n)
		for j, v := range rows[i] {
			binary.LittleEndian.PutUint32(vals[4*j:], uint32(v))
		}
		pr := make([][]byte, len(proofs[i]))
		for j, h := range proofs[i] {
			pr[j] = h[:]
		}
		m.Rows = append(m.Rows, Row{Index: uint32(i), Values: vals, Proof: pr})
	}
	return codec.MustMarshal(m)
}

// DecodeRows decodes and bounds a rows message from the network. It never
// panics; every refusal wraps ErrBadMessage.
func DecodeRows(data []byte) (*RowsMsg, error) {
	if len(data) > MaxRowsMsgBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrBadMessage, len(data), MaxRowsMsgBytes)
	}
	var m RowsMsg
	if err := rowsDecMode.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	// Canonical only, as codec.Unmarshal requires.
	if again, err := codec.Marshal(&m); err != nil || !bytes.Equal(again, data) {
		return nil, fmt.Errorf("%w: %v", ErrBadMessage, codec.ErrNotCanonical)
	}
	switch {
	case m.Version != WireVersion:
		return nil, fmt.Errorf("%w: version %d, want %d", ErrBadMessage, m.Version, WireVersion)
	case len(m.Root) != 32:
		return nil, fmt.Errorf("%w: root of %d bytes", ErrBadMessage, len(m.Root))
	case len(m.Rows) == 0 || len(m.Rows) > ledgercompute.MaxK:
		return nil, fmt.Errorf("%w: %d rows, want 1..%d", ErrBadMessage, len(m.Rows), ledgercompute.MaxK)
	}
	for _, r := range m.Rows {
		if len(r.Values) == 0 || len(r.Values)%4 != 0 || len(r.Values) > 4*maxTierN {
			return nil, fmt.Errorf("%w: row %d has %d value bytes", ErrBadMessage, r.Index, len(r.Values))
		}
		if len(r.Proof) > maxProofLen {
			return nil, fmt.Errorf("%w: row %d proof of %d hashes", ErrBadMessage, r.Index, len(r.Proof))
		}
		for _, h := range r.Proof {
			if len(h) != 32 {
				return nil, fmt.Errorf("%w: row %d proof hash of %d bytes", ErrBadMessage, r.Index, len(h))
			}
		}
	}
	return &m, nil
}

// errNotAttributable marks answers that prove nothing about the provider:
// anyone can publish rows under its name, but only the provider can open
// its own root. Such messages are dropped, never attested.
var errNotAttributable = errors.New("answer does not open the committed root")

// Check verifies m against the challenge ci. It returns the verdict to
// attest (ledger compute VerdictPass or VerdictWrongRow), or an error
// wrapping errNotAttributable when m does not open the committed root at
// the selected rows (wrong root, rows, lengths or proofs: drop it and wait
// for the real answer).
func Check(ci *ledgercompute.ChallengeInfo, m *RowsMsg) (string, error) {
	if !ci.Committed() || len(ci.Rows) == 0 {
		return "", fmt.Errorf("%w: no committed root or rows not selected yet", errNotAttributable)
	}
	if string(m.Root) != string(ci.Root) || m.Provider != ci.Provider || m.Epoch != ci.Epoch {
		return "", fmt.Errorf("%w: provider, epoch or root differ from the ledger's", errNotAttributable)
	}
	if len(m.Rows) != len(ci.Rows) {
		return "", fmt.Errorf("%w: %d rows, want %d", errNotAttributable, len(m.Rows), len(ci.Rows))
	}
	n := ci.N
	rows := make(map[int][]int32, len(m.Rows))
	proofs := make(map[int]merkle.Proof, len(m.Rows))
	for r, want := range ci.Rows {
		row := m.Rows[r]
		if int(row.Index) != want || len(row.Values) != 4*n {
			return "", fmt.Errorf("%w: row %d is index %d with %d bytes, want index %d with %d", errNotAttributable, r, row.Index, len(row.Values), want, 4*n)
		}
		vals := make([]int32, n)
		for j := range vals {
			vals[j] = int32(binary.LittleEndian.Uint32(row.Values[4*j:]))
		}
		pr := make(merkle.Proof, len(row.Proof))
		for j, h := range row.Proof {
			pr[j] = merkle.Hash(h)
		}
		if err := merkle.Verify([32]byte(ci.Root), n, want, merkle.LeafHash(want, vals), pr); err != nil {
			return "", fmt.Errorf("%w: row %d: %v", errNotAttributable, want, err)
		}
		rows[want], proofs[want] = vals, pr
	}
	ch, err := challenge.New([32]byte(ci.Seed), n)
	if err != nil {
		return "", fmt.Errorf("%w: %v", errNotAttributable, err)
	}
	// The proofs hold, so a failure now can only be a wrong value.
	switch err := spotcheck.Verify(ch, [32]byte(ci.CheckSeed), ci.K, [32]byte(ci.Root), rows, proofs); {
	case err == nil:
		return ledgercompute.VerdictPass, nil
	case errors.Is(err, spotcheck.ErrWrongRow):
		return ledgercompute.VerdictWrongRow, nil
	default:
		return "", fmt.Errorf("%w: %v", errNotAttributable, err)
	}
}

// EncodeRowsMsg encodes m canonically.
func EncodeRowsMsg(m *RowsMsg) []byte { return codec.MustMarshal(m) }
