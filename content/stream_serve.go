package content

import (
	"bufio"
	"context"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// maxServeStreams bounds the DAG streams served at once; a request past
// it is answered "busy" and the requester uses another peer or bitswap.
const maxServeStreams = 8

// maxServePerPeer bounds the DAG streams served to one peer at once, so
// one peer cannot take every slot.
const maxServePerPeer = 4

// servePeer counts p's open streams by add; false (and nothing counted)
// when p already has maxServePerPeer.
func (e *Exchange) servePeer(p peer.ID, add int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if add > 0 && e.perPeer[p] >= maxServePerPeer {
		return false
	}
	if e.perPeer[p] += add; e.perPeer[p] <= 0 {
		delete(e.perPeer, p)
	}
	return true
}

// DefaultStreamIdleTimeout is how long either side of a DAG stream waits
// for the other's next bytes before giving up on it.
const DefaultStreamIdleTimeout = 30 * time.Second

// served is one block read ahead of the stream's writer.
type served struct {
	c    cid.Cid
	data []byte // nil: not held
	err  error  // the walk stops here (a read error, a malformed block)
}

// serveStream answers one DAG stream request from the store: the blocks
// in DAG order, read ahead by one goroutine while this one writes them.
func (e *Exchange) serveStream(s network.Stream) {
	defer s.Close()
	bw := bufio.NewWriterSize(s, 256<<10)
	p := s.Conn().RemotePeer()
	if !e.servePeer(p, 1) {
		_ = s.SetWriteDeadline(time.Now().Add(e.idle))
		_ = writeErrorFrame(bw, fmt.Sprintf("busy: already %d DAG streams open from this peer", maxServePerPeer))
		return
	}
	defer e.servePeer(p, -1)
	select {
	case e.serving <- struct{}{}:
		defer func() { <-e.serving }()
	default:
		_ = s.SetWriteDeadline(time.Now().Add(e.idle))
		_ = writeErrorFrame(bw, "busy: too many DAG streams at once, try another peer or later")
		return
	}
	_ = s.SetReadDeadline(time.Now().Add(e.idle))
	req, err := readRequest(bufio.NewReaderSize(s, 16<<10))
	if err != nil {
		_ = s.SetWriteDeadline(time.Now().Add(e.idle))
		_ = writeErrorFrame(bw, "bad request: "+err.Error())
		return
	}
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	ch := make(chan served, 32)
	go e.readAhead(ctx, req, ch)
	for b := range ch {
		_ = s.SetWriteDeadline(time.Now().Add(e.idle))
		switch {
		case b.err != nil:
			_ = writeErrorFrame(bw, b.err.Error())
			return
		case b.data == nil:
			err = writeMissingFrame(bw, b.c)
		default:
			err = writeBlockFrame(bw, b.c, b.data)
			e.streamed.Add(1)
		}
		if err != nil {
			s.Reset() // the requester left or stalled
			return
		}
	}
	_ = s.SetWriteDeadline(time.Now().Add(e.idle))
	if bw.WriteByte(frameEnd) != nil || bw.Flush() != nil {
		s.Reset()
	}
}

// readAhead walks req in DAG order (dagOrder, as the requester does) and
// sends each block, or its absence, to ch, which it closes.
func (e *Exchange) readAhead(ctx context.Context, req streamRequest, ch chan<- served) {
	defer close(ch)
	send := func(b served) bool {
		select {
		case ch <- b:
			return true
		case <-ctx.Done():
			return false
		}
	}
	ord := newDAGOrder(req)
	for {
		it, ok := ord.next()
		if !ok {
			return
		}
		blk, err := e.store.bs.Get(ctx, it.c)
		if ipld.IsNotFound(err) {
			if !send(served{c: it.c}) {
				return
			}
			continue
		}
		if err != nil {
			send(served{err: err})
			return
		}
		data := blk.RawData()
		e.store.touch(len(data))
		ls, lerr := links(it.c, data)
		if !send(served{c: it.c, data: data}) {
			return
		}
		if lerr == nil {
			lerr = ord.children(it, ls)
		}
		if lerr != nil {
			// The requester finds the same fault in the block just sent.
			send(served{err: lerr})
			return
		}
	}
}
