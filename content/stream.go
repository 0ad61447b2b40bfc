package content

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/go-cid"
)

// The DAG stream protocol moves a DAG between two inferd peers over one
// libp2p stream, in DAG order, without bitswap's per-block want/have
// round trips (docs/content.md, "The DAG stream protocol").
//
// Request (requester to server), once:
//
//	uvarint maxDepth   levels to send below each listed CID (0: all)
//	uvarint n          how many CIDs follow (1..maxStreamCIDs)
//	n x (uvarint len, CID bytes)
//
// Response, a sequence of frames, each starting with a kind byte:
//
//	frameBlock   uvarint len, CID bytes, uvarint len, block bytes
//	frameMissing uvarint len, CID bytes (the server does not hold it)
//	frameEnd     (every block of the request was sent)
//	frameError   uvarint len, message (the server refuses: busy, bad request)
//
// Both sides walk the same order: each listed CID depth first, links in
// order, a CID met twice in one stream sent once, a missing block's links
// not followed. So the receiver knows the CID of every frame before it
// comes and takes nothing else.
const streamProtocol = "/inferd/content/dag/1.0.0"

const (
	frameBlock   byte = 0
	frameMissing byte = 1
	frameEnd     byte = 2
	frameError   byte = 3
)

const (
	// maxStreamCIDs bounds the CIDs of one request (a resumed 1 GiB file
	// has at most 4,096 missing leaves).
	maxStreamCIDs = 1 << 16
	// maxCIDBytes bounds one CID's encoding (sha2-256 CIDv1 is 36 bytes).
	maxCIDBytes = 128
	// maxErrorBytes bounds a server's error message.
	maxErrorBytes = 1 << 10
)

// ErrStreamProtocol is wrapped by the errors of a DAG stream whose peer
// broke the protocol: a block that does not match its CID, a block other
// than the one expected, an oversized or malformed frame, a truncated
// stream. The peer is reported (ExchangeOptions.OnBadPeer).
var ErrStreamProtocol = errors.New("peer broke the DAG stream protocol")

// streamRequest is what a requester asks a server for.
type streamRequest struct {
	maxDepth int
	cids     []cid.Cid
}

func writeUvarint(w *bufio.Writer, v uint64) error {
	var b [binary.MaxVarintLen64]byte
	_, err := w.Write(b[:binary.PutUvarint(b[:], v)])
	return err
}

func writeBytes(w *bufio.Writer, p []byte) error {
	if err := writeUvarint(w, uint64(len(p))); err != nil {
		return err
	}
	_, err := w.Write(p)
	return err
}

func (r streamRequest) write(w *bufio.Writer) error {
	if err := writeUvarint(w, uint64(r.maxDepth)); err != nil {
		return err
	}
	if err := writeUvarint(w, uint64(len(r.cids))); err != nil {
		return err
	}
	for _, c := range r.cids {
		if err := writeBytes(w, c.Bytes()); err != nil {
			return err
		}
	}
	return w.Flush()
}

// readUvarint reads a uvarint of at most max; what is wrong says which
// field it was.
func readUvarint(r *bufio.Reader, max uint64, what string) (uint64, error) {
	v, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, err
	}
	if v > max {
		return 0, fmt.Errorf("%w: %s of %d, over the limit of %d", ErrStreamProtocol, what, v, max)
	}
	return v, nil
}

func readCID(r *bufio.Reader) (cid.Cid, error) {
	n, err := readUvarint(r, maxCIDBytes, "CID length")
	if err != nil {
		return cid.Undef, err
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return cid.Undef, err
	}
	c, err := cid.Cast(b)
	if err != nil {
		return cid.Undef, fmt.Errorf("%w: a CID that does not parse: %v", ErrStreamProtocol, err)
	}
	return c, nil
}

// readRequest reads and checks a request; every CID must be one Fetch
// accepts.
func readRequest(r *bufio.Reader) (streamRequest, error) {
	var req streamRequest
	d, err := readUvarint(r, MaxDepth, "depth")
	if err != nil {
		return req, err
	}
	n, err := readUvarint(r, maxStreamCIDs, "CID count")
	if err != nil {
		return req, err
	}
	if n == 0 {
		return req, fmt.Errorf("%w: a request for no CIDs", ErrStreamProtocol)
	}
	req.maxDepth = int(d)
	for range n {
		c, err := readCID(r)
		if err != nil {
			return req, err
		}
		if err := checkCID(c); err != nil {
			return req, fmt.Errorf("%w: %v", ErrStreamProtocol, err)
		}
		req.cids = append(req.cids, c)
	}
	return req, nil
}

// frame is one response frame as read.
type frame struct {
	kind byte
	c    cid.Cid
	data []byte
	msg  string
}

// readFrame reads one frame; a block over MaxBlockSize is refused before
// its bytes are read.
func readFrame(r *bufio.Reader) (frame, error) {
	var f frame
	k, err := r.ReadByte()
	if err != nil {
		return f, err
	}
	f.kind = k
	switch k {
	case frameEnd:
		return f, nil
	case frameError:
		n, err := readUvarint(r, maxErrorBytes, "error message length")
		if err != nil {
			return f, err
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return f, err
		}
		f.msg = string(bytes.ToValidUTF8(b, []byte("?")))
		return f, nil
	case frameBlock, frameMissing:
		if f.c, err = readCID(r); err != nil {
			return f, err
		}
		if k == frameMissing {
			return f, nil
		}
		n, err := readUvarint(r, MaxBlockSize, "block size (MaxBlockSize)")
		if err != nil {
			return f, err
		}
		f.data = make([]byte, n)
		if _, err := io.ReadFull(r, f.data); err != nil {
			return f, err
		}
		return f, nil
	}
	return f, fmt.Errorf("%w: unknown frame kind %d", ErrStreamProtocol, k)
}

func writeBlockFrame(w *bufio.Writer, c cid.Cid, data []byte) error {
	if err := w.WriteByte(frameBlock); err != nil {
		return err
	}
	if err := writeBytes(w, c.Bytes()); err != nil {
		return err
	}
	return writeBytes(w, data)
}

func writeMissingFrame(w *bufio.Writer, c cid.Cid) error {
	if err := w.WriteByte(frameMissing); err != nil {
		return err
	}
	return writeBytes(w, c.Bytes())
}

func writeErrorFrame(w *bufio.Writer, msg string) error {
	if len(msg) > maxErrorBytes {
		msg = msg[:maxErrorBytes]
	}
	if err := w.WriteByte(frameError); err != nil {
		return err
	}
	if err := writeBytes(w, []byte(msg)); err != nil {
		return err
	}
	return w.Flush()
}

// dagOrder is the walk both sides of a stream make: pop the next CID,
// and after its block, push its links. A CID met before in the stream is
// skipped.
type dagOrder struct {
	maxDepth int
	stack    []orderItem
	seen     map[string]struct{}
}

type orderItem struct {
	c     cid.Cid
	depth int
}

func newDAGOrder(req streamRequest) *dagOrder {
	o := &dagOrder{maxDepth: req.maxDepth, seen: map[string]struct{}{}}
	for i := len(req.cids) - 1; i >= 0; i-- {
		o.stack = append(o.stack, orderItem{req.cids[i], 1})
	}
	return o
}

// next is the CID of the next frame, or false at the end.
func (o *dagOrder) next() (orderItem, bool) {
	for len(o.stack) > 0 {
		it := o.stack[len(o.stack)-1]
		o.stack = o.stack[:len(o.stack)-1]
		if _, ok := o.seen[it.c.KeyString()]; ok {
			continue
		}
		o.seen[it.c.KeyString()] = struct{}{}
		return it, true
	}
	return orderItem{}, false
}

// children queues the links of it's block, unless the request's depth
// stops there.
func (o *dagOrder) children(it orderItem, ls []cid.Cid) error {
	if o.maxDepth > 0 && it.depth >= o.maxDepth {
		return nil
	}
	if it.depth >= MaxDepth && len(ls) > 0 {
		return fmt.Errorf("block %s: %w: deeper than %d levels (MaxDepth)", it.c, ErrBadDAG, MaxDepth)
	}
	for i := len(ls) - 1; i >= 0; i-- {
		o.stack = append(o.stack, orderItem{ls[i], it.depth + 1})
	}
	return nil
}
