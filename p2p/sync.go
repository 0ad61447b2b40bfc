package p2p

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Block sync wire format (all integers big-endian unless said otherwise):
//
//	status: request  = nothing (the client closes its side)
//	        response = height uint64
//	blocks: request  = from uint64 || count uint64, 1 <= count <= MaxBlocksPerRequest
//	        response = zero or more frames, then end of stream;
//	                   frame = uvarint length (1..MaxBlockSize) || length bytes,
//	                   the blocks from, from+1, ... in order, at most count of
//	                   them and at most MaxResponseBytes in all. The server
//	                   stops early at its height or when a block is missing.
//	                   A zero length frame is followed by base uint64: the
//	                   server pruned the next block asked for and keeps
//	                   blocks from base (PrunedError); the stream ends.

func statusProtocol(chainID string) protocol.ID {
	return protocol.ID("/inferd/" + chainID + "/status/1")
}

func blocksProtocol(chainID string) protocol.ID {
	return protocol.ID("/inferd/" + chainID + "/blocks/1")
}

// BlockProvider is what ServeBlocks serves: raw block bytes by height.
// Its methods are called from many stream goroutines at once.
type BlockProvider interface {
	// Height is the latest height with a block (0: none yet).
	Height() uint64
	// BlockBytes returns the block at height, or an error if there is none.
	BlockBytes(height uint64) ([]byte, error)
}

// Errors of the block-sync client. Every other failure (timeout, stream
// reset, dial failure) is wrapped with the peer and the protocol.
var (
	ErrBadResponse = errors.New("p2p: malformed response")
	ErrBadRequest  = errors.New("p2p: bad block request")
)

// PrunedError says a peer has pruned a block it was asked for. A
// BlockProvider returns one from BlockBytes (Peer unset) so that the
// client hears why; FetchBlocks returns one with Peer set, and the caller
// should ask another peer.
type PrunedError struct {
	Peer   peer.ID
	Height uint64 // the block asked for
	Base   uint64 // the peer keeps blocks from this height
}

func (e *PrunedError) Error() string {
	if e.Peer == "" {
		return fmt.Sprintf("block %d pruned; blocks are kept from height %d", e.Height, e.Base)
	}
	return fmt.Sprintf("p2p: peer %s pruned block %d (it keeps blocks from height %d); ask another peer", e.Peer, e.Height, e.Base)
}

// ServeBlocks answers status and blocks requests from p. Call it once.
// Each request is bounded by Config.RequestTimeout; a request with count
// outside 1..MaxBlocksPerRequest is answered by resetting the stream.
func (h *Host) ServeBlocks(p BlockProvider) {
	h.host.SetStreamHandler(statusProtocol(h.cfg.ChainID), func(s network.Stream) {
		defer s.Close()
		_ = s.SetDeadline(time.Now().Add(h.cfg.RequestTimeout))
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], p.Height())
		if _, err := s.Write(b[:]); err != nil {
			_ = s.Reset()
		}
	})
	h.host.SetStreamHandler(blocksProtocol(h.cfg.ChainID), func(s network.Stream) {
		if err := h.serveBlocks(s, p); err != nil {
			h.log.Debug("p2p: blocks request failed", "peer", s.Conn().RemotePeer(), "err", err)
			_ = s.Reset()
			return
		}
		_ = s.Close()
	})
}

func (h *Host) serveBlocks(s network.Stream, p BlockProvider) error {
	_ = s.SetDeadline(time.Now().Add(h.cfg.RequestTimeout))
	var req [16]byte
	if _, err := io.ReadFull(s, req[:]); err != nil {
		return fmt.Errorf("read request: %w", err)
	}
	from := binary.BigEndian.Uint64(req[:8])
	count := binary.BigEndian.Uint64(req[8:])
	if count == 0 || count > uint64(h.cfg.MaxBlocksPerRequest) {
		return fmt.Errorf("%w: count %d not in 1..%d", ErrBadRequest, count, h.cfg.MaxBlocksPerRequest)
	}
	top := p.Height()
	w := bufio.NewWriterSize(s, 64<<10)
	total := 0
	var lenBuf [binary.MaxVarintLen64]byte
	for i := uint64(0); i < count; i++ {
		height := from + i
		if height < from || height > top { // overflow or past the tip
			break
		}
		b, err := p.BlockBytes(height)
		var pe *PrunedError
		if errors.As(err, &pe) {
			var frame [9]byte
			binary.BigEndian.PutUint64(frame[1:], pe.Base)
			if _, err := w.Write(frame[:]); err != nil {
				return err
			}
			break
		}
		if err != nil || len(b) == 0 || len(b) > h.cfg.MaxBlockSize || total+len(b) > h.cfg.MaxResponseBytes {
			break // the client asks again from where we stopped
		}
		total += len(b)
		n := binary.PutUvarint(lenBuf[:], uint64(len(b)))
		if _, err := w.Write(lenBuf[:n]); err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return w.Flush()
}

// openStream opens a stream to p on proto with a deadline of the earlier of
// ctx's and Config.RequestTimeout; the stream is reset if ctx ends first.
func (h *Host) openStream(ctx context.Context, p peer.ID, proto protocol.ID) (network.Stream, context.Context, func(), error) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.RequestTimeout)
	s, err := h.host.NewStream(ctx, p, proto)
	if err != nil {
		err = h.streamErr(ctx, err)
		cancel()
		return nil, nil, nil, fmt.Errorf("p2p: %s to %s: %w", proto, p, err)
	}
	deadline, _ := ctx.Deadline()
	_ = s.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	done := func() {
		stop()
		cancel()
		_ = s.Close()
	}
	return s, ctx, done, nil
}

// PeerHeight asks p for its latest block height.
func (h *Host) PeerHeight(ctx context.Context, p peer.ID) (uint64, error) {
	proto := statusProtocol(h.cfg.ChainID)
	s, ctx, done, err := h.openStream(ctx, p, proto)
	if err != nil {
		return 0, err
	}
	defer done()
	if err := s.CloseWrite(); err != nil {
		return 0, fmt.Errorf("p2p: %s to %s: %w", proto, p, err)
	}
	var b [9]byte // one byte more than the answer, to detect trailing bytes
	n, err := io.ReadFull(s, b[:])
	switch {
	case n == 8 && errors.Is(err, io.ErrUnexpectedEOF):
		return binary.BigEndian.Uint64(b[:8]), nil
	case err == nil:
		return 0, fmt.Errorf("%w: %s from %s: more than 8 bytes", ErrBadResponse, proto, p)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return 0, fmt.Errorf("%w: %s from %s: %d bytes, want 8", ErrBadResponse, proto, p, n)
	default:
		return 0, fmt.Errorf("p2p: %s from %s: %w", proto, p, h.streamErr(ctx, err))
	}
}

// FetchBlocks asks p for up to count blocks from height from and returns
// the raw bytes the peer sent, in height order: possibly fewer than count
// (the peer's tip, or its response limit), never more. The caller verifies
// them; a peer that sent bad blocks can be given to Penalize. It fails
// with ErrBadRequest for count outside 1..MaxBlocksPerRequest, with
// ErrBadResponse for a malformed or oversized response, and with a timeout
// after Config.RequestTimeout (or ctx's deadline, if earlier).
func (h *Host) FetchBlocks(ctx context.Context, p peer.ID, from, count uint64) ([][]byte, error) {
	if count == 0 || count > uint64(h.cfg.MaxBlocksPerRequest) {
		return nil, fmt.Errorf("%w: count %d not in 1..%d", ErrBadRequest, count, h.cfg.MaxBlocksPerRequest)
	}
	proto := blocksProtocol(h.cfg.ChainID)
	s, ctx, done, err := h.openStream(ctx, p, proto)
	if err != nil {
		return nil, err
	}
	defer done()
	var req [16]byte
	binary.BigEndian.PutUint64(req[:8], from)
	binary.BigEndian.PutUint64(req[8:], count)
	if _, err := s.Write(req[:]); err != nil {
		return nil, fmt.Errorf("p2p: %s to %s: %w", proto, p, h.streamErr(ctx, err))
	}
	if err := s.CloseWrite(); err != nil {
		return nil, fmt.Errorf("p2p: %s to %s: %w", proto, p, h.streamErr(ctx, err))
	}
	blocks, err := readBlockFrames(bufio.NewReaderSize(s, 64<<10), count, h.cfg.MaxBlockSize, h.cfg.MaxResponseBytes)
	var pe *PrunedError
	switch {
	case errors.As(err, &pe):
		pe.Peer, pe.Height = p, from+pe.Height
		return nil, pe
	case errors.Is(err, ErrBadResponse):
		return nil, fmt.Errorf("%s from %s: %w", proto, p, err)
	case err != nil:
		return nil, fmt.Errorf("p2p: %s from %s: %w", proto, p, h.streamErr(ctx, err))
	}
	return blocks, nil
}

// readBlockFrames reads a blocks response: frames until a clean end of
// stream, at most count of them, each of 1..maxBlock bytes, at most
// maxTotal bytes in all. A malformed or oversized response fails with
// ErrBadResponse; a read error is returned as it is. The buffer of a
// frame is allocated only once its length is known to be within the
// limits, so a peer cannot make us allocate more than maxBlock (plus what
// we already hold) by announcing a frame it never sends.
func readBlockFrames(r *bufio.Reader, count uint64, maxBlock, maxTotal int) ([][]byte, error) {
	var blocks [][]byte
	total := 0
	for {
		size, err := readUvarint(r)
		if errors.Is(err, io.EOF) {
			return blocks, nil // clean end of stream between frames
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errVarint) {
				return nil, fmt.Errorf("%w: bad frame length: %v", ErrBadResponse, err)
			}
			return nil, err
		}
		if size == 0 {
			var base [8]byte
			if _, err := io.ReadFull(r, base[:]); err != nil {
				return nil, fmt.Errorf("%w: truncated pruned marker", ErrBadResponse)
			}
			// Height is the index in the response; the caller adds the peer and the first height.
			return nil, &PrunedError{Height: uint64(len(blocks)), Base: binary.BigEndian.Uint64(base[:])}
		}
		switch {
		case uint64(len(blocks)) == count:
			return nil, fmt.Errorf("%w: more than the %d blocks asked for", ErrBadResponse, count)
		case size > uint64(maxBlock):
			return nil, fmt.Errorf("%w: block of %d bytes (limit 1..%d)", ErrBadResponse, size, maxBlock)
		case uint64(total)+size > uint64(maxTotal):
			return nil, fmt.Errorf("%w: response over %d bytes", ErrBadResponse, maxTotal)
		}
		b := make([]byte, size)
		if _, err := io.ReadFull(r, b); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%w: block %d of the response truncated", ErrBadResponse, len(blocks))
			}
			return nil, err
		}
		total += int(size)
		blocks = append(blocks, b)
	}
}

// errVarint is a frame length that is not a valid uvarint.
var errVarint = errors.New("bad uvarint")

// readUvarint is binary.ReadUvarint with a sentinel for overflow, and
// refusing forms longer than needed (one length, one encoding).
func readUvarint(r io.ByteReader) (uint64, error) {
	var x uint64
	var shift uint
	for i := 0; i < binary.MaxVarintLen64; i++ {
		b, err := r.ReadByte()
		if err != nil {
			if i > 0 && errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 || i > 0 && b == 0 {
				return 0, errVarint // overflow, or not the shortest form
			}
			return x | uint64(b)<<shift, nil
		}
		x |= uint64(b&0x7f) << shift
		shift += 7
	}
	return 0, errVarint
}

// streamErr names a stream failure: a timeout if ctx (the request's
// context, bounded by RequestTimeout) passed its deadline or the stream's
// deadline passed, ctx's error if it was cancelled, or err itself.
func (h *Host) streamErr(ctx context.Context, err error) error {
	var te interface{ Timeout() bool }
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.As(err, &te) && te.Timeout() {
		return fmt.Errorf("%w (request timeout %v): %v", context.DeadlineExceeded, h.cfg.RequestTimeout, err)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %v", ctx.Err(), err)
	}
	return err
}
