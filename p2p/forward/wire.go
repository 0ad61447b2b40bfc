package forward

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/keys"
)

// ProtocolID is the stream protocol of chainID.
func ProtocolID(chainID string) protocol.ID {
	return protocol.ID("/inferd/" + chainID + "/lease-forward/1")
}

// Domain separates the Hello signature from every other signature.
const Domain = "inferd/lease-forward"

// Purpose is what a stream is for.
type Purpose uint8

// Purposes.
const (
	// PurposeForward pipes the stream to the container's port.
	PurposeForward Purpose = 1
	// PurposeProbe asks the provider to GET the lease's health path.
	PurposeProbe Purpose = 2
	// PurposeLocate asks whether this peer runs the lease (who runs which
	// lease is public on-chain; which peer is the provider's node is not).
	PurposeLocate Purpose = 3
	// PurposeLogs follows a running job's output (its owner only); the
	// "lease" is then any job id.
	PurposeLogs Purpose = 4
)

func (p Purpose) String() string {
	switch p {
	case PurposeForward:
		return "forward"
	case PurposeProbe:
		return "probe"
	case PurposeLocate:
		return "locate"
	case PurposeLogs:
		return "logs"
	}
	return fmt.Sprintf("purpose(%d)", uint8(p))
}

// Limits of the handshake.
const (
	NonceLen   = 32
	MaxHello   = 512  // a Hello is ~120 bytes
	MaxMessage = 1024 // a reply's message
)

// Reply statuses.
const (
	StatusOK          byte = 0
	StatusRefused     byte = 1 // not authorised, or no such live lease here
	StatusUnavailable byte = 2 // the container is not reachable
	StatusBadRequest  byte = 3 // malformed handshake
	StatusBusy        byte = 4 // too many streams
)

// Hello is the client's handshake.
type Hello struct {
	_       struct{} `cbor:",toarray"`
	Lease   uint64
	Purpose Purpose
	PubKey  []byte
	Sig     []byte
}

// signPayload is what a Hello's signature covers.
func signPayload(nonce []byte, lease uint64, purpose Purpose, client, provider peer.ID) []byte {
	b := make([]byte, 0, NonceLen+9+2*40)
	b = append(b, nonce...)
	b = binary.BigEndian.AppendUint64(b, lease)
	b = append(b, byte(purpose))
	b = binary.AppendUvarint(b, uint64(len(client)))
	b = append(b, client...)
	b = binary.AppendUvarint(b, uint64(len(provider)))
	return append(b, provider...)
}

// ProbeResult is what a probe returns (the message of an OK reply).
type ProbeResult struct {
	_ struct{} `cbor:",toarray"`
	// Code is the HTTP status of GET health (0 when the request failed).
	Code int
	// Micros is how long the GET took.
	Micros uint64
	// Err says why the request failed, when it did.
	Err string
}

// Healthy reports whether the probe passed (a 2xx answer).
func (r ProbeResult) Healthy() bool { return r.Code >= 200 && r.Code < 300 }

// ErrBadHandshake: the peer's handshake was malformed or oversized.
var ErrBadHandshake = errors.New("lease forward: bad handshake")

// writeFrame writes uvarint(len) || body.
func writeFrame(w io.Writer, body []byte) error {
	b := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(body)), uint64(len(body)))
	_, err := w.Write(append(b, body...))
	return err
}

// readFrame reads a frame of at most limit bytes. It reads the length a
// byte at a time so that nothing after the frame is consumed (the stream
// carries the user's bytes next).
func readFrame(r io.Reader, limit int) ([]byte, error) {
	var n uint64
	var one [1]byte
	for i := 0; ; i++ {
		if i == binary.MaxVarintLen64 {
			return nil, fmt.Errorf("%w: length prefix too long", ErrBadHandshake)
		}
		if _, err := io.ReadFull(r, one[:]); err != nil {
			return nil, err
		}
		n |= uint64(one[0]&0x7f) << (7 * i)
		if one[0] < 0x80 {
			break
		}
	}
	if n > uint64(limit) {
		return nil, fmt.Errorf("%w: frame of %d bytes, the most is %d", ErrBadHandshake, n, limit)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("%w: truncated frame: %v", ErrBadHandshake, err)
	}
	return body, nil
}

// writeReply writes status || frame(msg).
func writeReply(w io.Writer, status byte, msg []byte) error {
	if len(msg) > MaxMessage {
		msg = msg[:MaxMessage]
	}
	b := append([]byte{status}, binary.AppendUvarint(nil, uint64(len(msg)))...)
	_, err := w.Write(append(b, msg...))
	return err
}

func readReply(r io.Reader) (byte, []byte, error) {
	var st [1]byte
	if _, err := io.ReadFull(r, st[:]); err != nil {
		return 0, nil, err
	}
	msg, err := readFrame(r, MaxMessage)
	return st[0], msg, err
}

func encodeHello(h Hello) []byte { return codec.MustMarshal(h) }

func decodeHello(b []byte) (Hello, keys.PubKey, error) {
	var h Hello
	if err := codec.Unmarshal(b, &h); err != nil {
		return h, nil, fmt.Errorf("%w: %v", ErrBadHandshake, err)
	}
	if h.Purpose < PurposeForward || h.Purpose > PurposeLogs {
		return h, nil, fmt.Errorf("%w: unknown purpose %d", ErrBadHandshake, h.Purpose)
	}
	pub, err := keys.ParsePubKey(h.PubKey)
	if err != nil {
		return h, nil, fmt.Errorf("%w: public key: %v", ErrBadHandshake, err)
	}
	return h, pub, nil
}
