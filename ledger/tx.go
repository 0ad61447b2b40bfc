package ledger

import (
	"crypto/sha256"
	"fmt"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/keys"
)

// Size limits applied before any state is read.
const (
	MaxTxBytes   = 64 << 10
	MaxTxMsgs    = 64
	MaxMemoBytes = 256
)

// Msg is one operation inside a transaction. Type names the module and the
// operation ("bank/send"); Value is the canonical encoding of the module's
// message struct for that type.
type Msg struct {
	_     struct{} `cbor:",toarray"`
	Type  string
	Value codec.RawMessage
}

// TxBody is what the sender signs.
type TxBody struct {
	_       struct{} `cbor:",toarray"`
	ChainID string   // must equal the ledger's chain id
	Sender  keys.Address
	PubKey  []byte // the sender's ed25519 key; its address must be Sender
	Nonce   uint64 // must equal the account's nonce
	Fee     uint64 // uinf, burned
	Memo    string
	Msgs    []Msg
}

// Tx is a signed transaction. The signature covers
// keys.SignBytes(chainID, keys.DomainTx, codec(Body)).
type Tx struct {
	_         struct{} `cbor:",toarray"`
	Body      TxBody
	Signature []byte
}

// TxHash identifies a transaction: sha256 of its canonical bytes.
type TxHash [32]byte

// HashTx hashes encoded transaction bytes.
func HashTx(raw []byte) TxHash { return sha256.Sum256(raw) }

// NewMsg encodes a module message.
func NewMsg(typ string, v any) Msg {
	return Msg{Type: typ, Value: codec.MustMarshal(v)}
}

// SignTx builds and signs a transaction.
func SignTx(chainID string, priv keys.PrivKey, nonce, fee uint64, memo string, msgs ...Msg) (*Tx, []byte) {
	pub := priv.Public().(keys.PubKey)
	body := TxBody{ChainID: chainID, Sender: keys.AddressOf(pub), PubKey: pub, Nonce: nonce, Fee: fee, Memo: memo, Msgs: msgs}
	tx := &Tx{Body: body, Signature: keys.Sign(priv, chainID, keys.DomainTx, codec.MustMarshal(body))}
	return tx, codec.MustMarshal(tx)
}

// DecodeTx decodes and statelessly checks a transaction: canonical
// encoding, size limits, the public key matching the sender. It does not
// check the signature (see VerifyTx) or anything that needs state.
func DecodeTx(raw []byte) (*Tx, error) {
	if len(raw) > MaxTxBytes {
		return nil, fmt.Errorf("%w: transaction is %d bytes, limit %d", ErrTooLarge, len(raw), MaxTxBytes)
	}
	var tx Tx
	if err := codec.Unmarshal(raw, &tx); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedTx, err)
	}
	if err := tx.ValidateBasic(); err != nil {
		return nil, err
	}
	return &tx, nil
}

// ValidateBasic performs the checks that need no state.
func (tx *Tx) ValidateBasic() error {
	b := &tx.Body
	if len(b.PubKey) != 32 {
		return fmt.Errorf("%w: public key is %d bytes, want 32", ErrMalformedTx, len(b.PubKey))
	}
	if keys.AddressOf(b.PubKey) != b.Sender {
		return fmt.Errorf("%w: public key does not belong to sender %s", ErrMalformedTx, b.Sender)
	}
	if len(b.Msgs) == 0 {
		return fmt.Errorf("%w: no messages", ErrMalformedTx)
	}
	if len(b.Msgs) > MaxTxMsgs {
		return fmt.Errorf("%w: %d messages, limit %d", ErrTooLarge, len(b.Msgs), MaxTxMsgs)
	}
	if len(b.Memo) > MaxMemoBytes {
		return fmt.Errorf("%w: memo is %d bytes, limit %d", ErrTooLarge, len(b.Memo), MaxMemoBytes)
	}
	if len(tx.Signature) != 64 {
		return fmt.Errorf("%w: signature is %d bytes, want 64", ErrBadSignature, len(tx.Signature))
	}
	return nil
}

// VerifyTx checks that the transaction is for chainID and that its
// signature (which also covers chainID) is valid.
func VerifyTx(chainID string, tx *Tx) error {
	c, err := TxSigCheck(chainID, tx)
	if err != nil {
		return err
	}
	if !c.Check() {
		return BadSignatureError(chainID, tx)
	}
	return nil
}

// TxSigCheck is VerifyTx split for keys.VerifyAll: the chain id check now,
// the signature check returned to be run with many others.
func TxSigCheck(chainID string, tx *Tx) (keys.SigCheck, error) {
	if tx.Body.ChainID != chainID {
		return keys.SigCheck{}, fmt.Errorf("%w: transaction is for chain %q, this is %q", ErrWrongChainID, tx.Body.ChainID, chainID)
	}
	return keys.SigCheck{Pub: tx.Body.PubKey, Msg: keys.SignBytes(chainID, keys.DomainTx, codec.MustMarshal(tx.Body)), Sig: tx.Signature}, nil
}

// BadSignatureError is VerifyTx's error for a signature that does not verify.
func BadSignatureError(chainID string, tx *Tx) error {
	return fmt.Errorf("%w: signature does not verify for sender %s on chain %q (wrong key or wrong chain id)", ErrBadSignature, tx.Body.Sender, chainID)
}

// DecodeMsg decodes a message's value into v, refusing non-canonical or
// malformed input with ErrInvalidMsg.
func DecodeMsg(m Msg, v any) error {
	if err := codec.Unmarshal(m.Value, v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalidMsg, m.Type, err)
	}
	return nil
}

// HandleAs decodes msg into a T (refusing malformed input with
// ErrInvalidMsg, as DecodeMsg does) and hands it to f: one line per
// message type in a module's Handle.
func HandleAs[T any](msg Msg, f func(T) error) error {
	var x T
	if err := DecodeMsg(msg, &x); err != nil {
		return err
	}
	return f(x)
}
