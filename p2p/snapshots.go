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

// Snapshot wire format (state sync), one request per stream:
//
//	request  = 0x01                                  list snapshots
//	         | 0x02 height uint64 format uint32 index uint32   load a chunk
//	response = 0x00 uvarint length || bytes          the answer
//	         | 0x01 uvarint length || message        the server's refusal
//
// The list is opaque here (the node encodes its snapshots' metadata); a
// list is at most MaxSnapshotList bytes and a chunk at most
// MaxSnapshotChunk. The client checks every chunk against its hash.
const (
	MaxSnapshotList  = 1 << 20
	MaxSnapshotChunk = 16 << 20
)

const (
	opList  = 0x01
	opChunk = 0x02
)

func snapshotsProtocol(chainID string) protocol.ID {
	return protocol.ID("/inferd/" + chainID + "/snapshots/1")
}

// SnapshotProvider is what ServeSnapshots serves; its methods are called
// from many stream goroutines at once.
type SnapshotProvider interface {
	ListSnapshots() ([]byte, error)
	LoadSnapshotChunk(height uint64, format, index uint32) ([]byte, error)
}

// ErrRefused wraps a peer's refusal of a snapshot request, with its message.
var ErrRefused = errors.New("p2p: peer refused")

// ServeSnapshots answers snapshot requests. Call it once.
func (h *Host) ServeSnapshots(p SnapshotProvider) {
	h.host.SetStreamHandler(snapshotsProtocol(h.cfg.ChainID), func(s network.Stream) {
		_ = s.SetDeadline(time.Now().Add(4 * h.cfg.RequestTimeout))
		if err := serveSnapshot(s, p); err != nil {
			h.log.Debug("p2p: snapshot request failed", "peer", s.Conn().RemotePeer(), "err", err)
			_ = s.Reset()
			return
		}
		_ = s.Close()
	})
}

func serveSnapshot(s network.Stream, p SnapshotProvider) error {
	r := bufio.NewReader(io.LimitReader(s, 17))
	op, err := r.ReadByte()
	if err != nil {
		return err
	}
	var body []byte
	switch op {
	case opList:
		body, err = p.ListSnapshots()
		if err == nil && len(body) > MaxSnapshotList {
			err = fmt.Errorf("snapshot list of %d bytes is over %d", len(body), MaxSnapshotList)
		}
	case opChunk:
		var req [16]byte
		if _, err := io.ReadFull(r, req[:]); err != nil {
			return fmt.Errorf("read chunk request: %w", err)
		}
		body, err = p.LoadSnapshotChunk(binary.BigEndian.Uint64(req[:8]), binary.BigEndian.Uint32(req[8:12]), binary.BigEndian.Uint32(req[12:]))
		if err == nil && len(body) > MaxSnapshotChunk {
			err = fmt.Errorf("chunk of %d bytes is over %d", len(body), MaxSnapshotChunk)
		}
	default:
		return fmt.Errorf("%w: snapshot op %#x", ErrBadRequest, op)
	}
	status := byte(0)
	if err != nil {
		status, body = 1, []byte(err.Error())
	}
	w := bufio.NewWriterSize(s, 64<<10)
	var lb [1 + binary.MaxVarintLen64]byte
	lb[0] = status
	n := binary.PutUvarint(lb[1:], uint64(len(body)))
	if _, err := w.Write(lb[:1+n]); err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		return err
	}
	return w.Flush()
}

func (h *Host) snapshotRequest(ctx context.Context, p peer.ID, req []byte, limit int) ([]byte, error) {
	proto := snapshotsProtocol(h.cfg.ChainID)
	ctx, cancel := context.WithTimeout(ctx, 4*h.cfg.RequestTimeout) // a 4 MiB chunk on a slow link
	defer cancel()
	s, ctx, done, err := h.openStream(ctx, p, proto)
	if err != nil {
		return nil, err
	}
	defer done()
	if _, err := s.Write(req); err != nil {
		return nil, fmt.Errorf("p2p: %s to %s: %w", proto, p, h.streamErr(ctx, err))
	}
	if err := s.CloseWrite(); err != nil {
		return nil, fmt.Errorf("p2p: %s to %s: %w", proto, p, h.streamErr(ctx, err))
	}
	r := bufio.NewReaderSize(s, 64<<10)
	status, err := r.ReadByte()
	if err != nil {
		return nil, fmt.Errorf("p2p: %s from %s: %w", proto, p, h.streamErr(ctx, err))
	}
	size, err := readUvarint(r)
	if err != nil || status > 1 || size > uint64(limit) {
		return nil, fmt.Errorf("%w: %s from %s: status %d, length %d (limit %d), %v", ErrBadResponse, proto, p, status, size, limit, err)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("%w: %s from %s: truncated (%v)", ErrBadResponse, proto, p, h.streamErr(ctx, err))
	}
	if status == 1 {
		return nil, fmt.Errorf("%w: %s: %s", ErrRefused, p, body)
	}
	return body, nil
}

// ListSnapshots asks p for its snapshot list (opaque bytes).
func (h *Host) ListSnapshots(ctx context.Context, p peer.ID) ([]byte, error) {
	return h.snapshotRequest(ctx, p, []byte{opList}, MaxSnapshotList)
}

// LoadSnapshotChunk asks p for one chunk of a snapshot.
func (h *Host) LoadSnapshotChunk(ctx context.Context, p peer.ID, height uint64, format, index uint32) ([]byte, error) {
	req := make([]byte, 17)
	req[0] = opChunk
	binary.BigEndian.PutUint64(req[1:], height)
	binary.BigEndian.PutUint32(req[9:], format)
	binary.BigEndian.PutUint32(req[13:], index)
	return h.snapshotRequest(ctx, p, req, MaxSnapshotChunk)
}
