package content

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p/core/peer"
)

const (
	// maxProbePeers bounds the connected peers asked whether they hold a
	// root before a stream fetch.
	maxProbePeers = 16
	// maxStreamParts bounds the peers one round streams from at once.
	maxStreamParts = 4
)

// errNoStreamPeer: no connected peer served the DAG by stream; the fetch
// goes on with bitswap.
var errNoStreamPeer = errors.New("no connected peer streams this DAG")

// errRefused: the peer answered with an error frame (busy, a bad
// request); not an offence.
var errRefused = errors.New("peer refused the DAG stream")

// streamFetch is the state the parts of one stream fetch share.
type streamFetch struct {
	e    *Exchange
	root cid.Cid
	lim  Limits
	o    FetchOptions
	res  *FetchResult
	t0   time.Time

	mu       sync.Mutex
	done     int64 // file bytes held
	total    int64 // the root's file size
	bytes    int64 // block bytes received
	blocks   int   // blocks received
	received int   // blocks stored
	// rootSeen: the root was held or stored already, so more copies of
	// it (each peer probed sends one) are not counted again.
	rootSeen bool
	rootHeld bool // the root was held before this fetch
	// heldBefore is how many blocks of the DAG were held before this
	// fetch (-1: not known yet).
	heldBefore int
}

// count puts the stream's blocks into res: they count as received (res
// has bitswap's), and what was held is what was held before the fetch,
// not what bitswap then found stored. complete: the whole DAG is held
// and res.Blocks counts it. Nothing for a nil f (bitswap alone).
func (f *streamFetch) count(res *FetchResult, complete bool) {
	if f == nil {
		return
	}
	res.Received += f.received
	res.Streamed = f.received
	switch {
	case complete:
		res.Held = max(res.Blocks-res.Received, 0)
	case f.heldBefore >= 0:
		res.Held = f.heldBefore
	}
}

// account checks one verified block against the limits before it is
// stored.
func (f *streamFetch) account(c cid.Cid, data []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.res.FirstByte == 0 {
		f.res.FirstByte = time.Since(f.t0)
	}
	f.blocks++
	if f.blocks > f.lim.MaxBlocks {
		return tooManyBlocks(f.root, f.lim.MaxBlocks)
	}
	if f.bytes += int64(len(data)); f.bytes > f.lim.MaxBytes {
		return tooManyBytes(f.root, f.bytes, f.lim.MaxBytes)
	}
	if c.Equals(f.root) {
		f.total, _ = rootSize(c, data)
		f.res.Size = f.total
		if f.total > f.lim.MaxBytes {
			return tooManyBytes(f.root, f.total, f.lim.MaxBytes)
		}
	}
	return nil
}

// stored counts blocks written to the store and reports progress.
func (f *streamFetch) stored(bs []blocks.Block) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range bs {
		if b.Cid().Equals(f.root) {
			if f.rootSeen {
				continue
			}
			f.rootSeen = true
		}
		f.received++
		if b.Cid().Type() == cid.Raw && !b.Cid().Equals(f.root) {
			f.done += int64(len(b.RawData()))
		}
	}
	if f.o.Progress != nil {
		f.o.Progress(min(f.done, max(f.total, f.done)), f.total)
	}
}

// streamDAG fetches the DAG under root by DAG streams from the connected
// peers that hold it, split by subtree across up to maxStreamParts of
// them, until the store holds every block. It returns errNoStreamPeer (or
// a peer's fault) when streams cannot finish it, so the caller goes on
// with bitswap; limits, a malformed DAG, a store write error or ctx end
// the fetch.
func (e *Exchange) streamDAG(ctx context.Context, root cid.Cid, o FetchOptions, lim Limits, t0 time.Time, res *FetchResult) (*streamFetch, error) {
	f := &streamFetch{e: e, root: root, lim: lim, o: o, res: res, t0: t0, heldBefore: -1}
	if ok, err := e.store.bs.Has(ctx, root); err == nil && ok {
		f.rootSeen, f.rootHeld = true, true
	}
	holders := e.probe(ctx, f)
	var last error
	for round := 0; ; round++ {
		missing, held, heldBlocks, err := e.frontier(ctx, root, lim)
		if err != nil {
			return f, err
		}
		if round == 0 {
			f.mu.Lock()
			f.done = held
			f.mu.Unlock()
			// The probe may have just stored the root.
			if rootNow, _ := e.store.bs.Has(ctx, root); rootNow && !f.rootHeld {
				heldBlocks--
			}
			f.heldBefore = heldBlocks
		}
		if len(missing) == 0 {
			return f, nil
		}
		if len(holders) == 0 {
			if last != nil {
				return f, fmt.Errorf("%w (last: %v)", errNoStreamPeer, last)
			}
			return f, errNoStreamPeer
		}
		parts := splitParts(missing, min(len(holders), maxStreamParts))
		got := make([]int, len(parts))
		errs := make([]error, len(parts))
		var wg sync.WaitGroup
		for i, part := range parts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], _, errs[i] = e.streamPart(ctx, holders[i], streamRequest{cids: part}, f)
			}()
		}
		wg.Wait()
		progress := 0
		keep := holders[:0:0]
		for i, p := range holders {
			if i >= len(parts) {
				keep = append(keep, p)
				continue
			}
			progress += got[i]
			if err := errs[i]; err != nil {
				if fatalFetchErr(err) {
					return f, err
				}
				last = err
				continue // a peer that failed is not asked again in this fetch
			}
			keep = append(keep, p)
		}
		holders = keep
		if progress == 0 && last != nil && len(holders) == 0 {
			return f, fmt.Errorf("%w (last: %v)", errNoStreamPeer, last)
		}
		if progress == 0 {
			// The holders lack the rest (missing frames): bitswap and
			// routing may find it elsewhere.
			return f, errNoStreamPeer
		}
	}
}

// fatalFetchErr: errors that end the fetch instead of handing it to
// bitswap.
func fatalFetchErr(err error) bool {
	return errors.Is(err, ErrTooLarge) || errors.Is(err, ErrBadDAG) || errors.Is(err, ErrStoreWrite) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// splitParts cuts cs (in DAG order) into k runs of about equal length,
// each at most maxStreamCIDs; CIDs past that wait for the next round.
func splitParts(cs []cid.Cid, k int) [][]cid.Cid {
	cs = cs[:min(len(cs), k*maxStreamCIDs)]
	k = min(k, len(cs))
	out := make([][]cid.Cid, 0, k)
	for i := range k {
		out = append(out, cs[i*len(cs)/k:(i+1)*len(cs)/k])
	}
	return out
}

// probe asks up to maxProbePeers connected peers, at once, for the root
// block alone, and returns those that sent it, quickest first.
func (e *Exchange) probe(ctx context.Context, f *streamFetch) []peer.ID {
	peers := e.host.Network().Peers()
	peers = peers[:min(len(peers), maxProbePeers)]
	var mu sync.Mutex
	var holders []peer.ID
	var wg sync.WaitGroup
	for _, p := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, missing, err := e.streamPart(ctx, p, streamRequest{maxDepth: 1, cids: []cid.Cid{f.root}}, f)
			if err == nil && missing == 0 {
				mu.Lock()
				holders = append(holders, p)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return holders
}

// frontier walks the local part of the DAG under root in DAG order and
// returns the CIDs of the subtrees not held (a missing block's links are
// unknown), the file bytes of the raw leaves held, and how many blocks
// are held.
func (e *Exchange) frontier(ctx context.Context, root cid.Cid, lim Limits) ([]cid.Cid, int64, int, error) {
	var missing []cid.Cid
	var held int64
	seen := map[string]struct{}{}
	var rec func(c cid.Cid, depth int) error
	rec = func(c cid.Cid, depth int) error {
		if _, ok := seen[c.KeyString()]; ok {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if depth > MaxDepth {
			return fmt.Errorf("%s: %w: deeper than %d levels (MaxDepth) at block %s", root, ErrBadDAG, MaxDepth, c)
		}
		if len(seen) >= lim.MaxBlocks {
			return tooManyBlocks(root, lim.MaxBlocks)
		}
		seen[c.KeyString()] = struct{}{}
		if c.Type() == cid.Raw {
			n, err := e.store.bs.GetSize(ctx, c)
			switch {
			case ipld.IsNotFound(err):
				missing = append(missing, c)
			case err != nil:
				return fmt.Errorf("block %s: %w", c, err)
			case !c.Equals(root):
				held += int64(n)
			}
			return nil
		}
		b, err := e.store.bs.Get(ctx, c)
		if ipld.IsNotFound(err) {
			missing = append(missing, c)
			return nil
		}
		if err != nil {
			return fmt.Errorf("block %s: %w", c, err)
		}
		ls, err := links(c, b.RawData())
		if err != nil {
			return err
		}
		for _, l := range ls {
			if err := rec(l, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	err := rec(root, 1)
	return missing, held, len(seen) - len(missing), err
}

// streamPart fetches req from p by one DAG stream: every frame is checked
// against the CID the walk expects next and its bytes against that CID
// before it is batched for the store. It returns the blocks stored and
// the missing frames. A peer that breaks the protocol or stalls is
// reported (OnBadPeer) and disconnected.
func (e *Exchange) streamPart(ctx context.Context, p peer.ID, req streamRequest, f *streamFetch) (int, int, error) {
	nctx, cancel := context.WithTimeout(ctx, e.idle)
	st, err := e.host.NewStream(nctx, p, streamProtocol)
	cancel()
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %s: %v", errNoStreamPeer, p, err)
	}
	defer st.Close()
	stop := context.AfterFunc(ctx, func() { st.Reset() })
	defer stop()
	_ = st.SetWriteDeadline(time.Now().Add(e.idle))
	if err := req.write(bufio.NewWriterSize(st, 16<<10)); err != nil {
		st.Reset()
		return 0, 0, fmt.Errorf("%w: %s: send the request: %v", errNoStreamPeer, p, err)
	}
	_ = st.CloseWrite()

	w := newBatchWriter(ctx, e, f)
	missing, rerr := e.receiveFrames(ctx, bufio.NewReaderSize(st, 1<<20), st, req, f, w)
	err = rerr
	if werr := w.close(); werr != nil {
		err = werr // a leaf that failed its hash, or the store's error: the cause
	}
	if err != nil {
		st.Reset()
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		} else if errors.Is(err, ErrStreamProtocol) || errors.Is(err, ErrTimeout) {
			e.reportBad(p, err)
		}
		err = fmt.Errorf("stream from %s: %w", p, err)
	}
	return w.n, missing, err
}

// matches reports whether data hashes to c.
func matches(c cid.Cid, data []byte) bool {
	sum, err := c.Prefix().Sum(data)
	return err == nil && sum.Equals(c)
}

type deadliner interface{ SetReadDeadline(time.Time) error }

// receiveFrames reads req's frames in DAG order into w.
func (e *Exchange) receiveFrames(ctx context.Context, br *bufio.Reader, st deadliner, req streamRequest, f *streamFetch, w *batchWriter) (int, error) {
	ord := newDAGOrder(req)
	missing, n := 0, 0
	read := func() (frame, error) {
		_ = st.SetReadDeadline(time.Now().Add(e.idle))
		fr, err := readFrame(br)
		switch {
		case err == nil:
			return fr, nil
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return fr, fmt.Errorf("%w: the stream ended after %d of the blocks asked for (truncated)", ErrStreamProtocol, n)
		case isTimeout(err):
			return fr, fmt.Errorf("%w: the peer sent nothing for %v after %d blocks (stalled)", ErrTimeout, e.idle, n)
		}
		return fr, err
	}
	for {
		it, ok := ord.next()
		if !ok {
			break
		}
		fr, err := read()
		if err != nil {
			return missing, err
		}
		switch {
		case fr.kind == frameError:
			return missing, fmt.Errorf("%w: %s", errRefused, fr.msg)
		case fr.kind == frameEnd:
			return missing, fmt.Errorf("%w: the peer ended the stream at block %d, %s still expected (truncated)", ErrStreamProtocol, n, it.c)
		case !fr.c.Equals(it.c):
			return missing, fmt.Errorf("%w: block %d is %s, not %s, the next one its parent links (an unexpected block)", ErrStreamProtocol, n, fr.c, it.c)
		case fr.kind == frameMissing:
			missing++
			continue
		}
		// Raw leaves (no links, almost all the bytes) are hashed by the
		// writer, on its goroutine, before they are stored; a node's
		// links are needed now, so it is checked here.
		if it.c.Type() != cid.Raw && !matches(it.c, fr.data) {
			return missing, fmt.Errorf("%w: block %d does not match its CID %s (corrupt data)", ErrStreamProtocol, n, it.c)
		}
		ls, err := links(it.c, fr.data)
		if err != nil {
			return missing, err
		}
		if err := f.account(it.c, fr.data); err != nil {
			return missing, err
		}
		if err := ord.children(it, ls); err != nil {
			return missing, err
		}
		blk, _ := blocks.NewBlockWithCid(fr.data, it.c)
		if err := w.add(blk); err != nil {
			return missing, err
		}
		n++
	}
	fr, err := read()
	if err != nil {
		return missing, err
	}
	if fr.kind != frameEnd {
		return missing, fmt.Errorf("%w: a frame (kind %d) after the last block asked for (an unexpected block)", ErrStreamProtocol, fr.kind)
	}
	return missing, ctx.Err()
}

// reportBad tells the node of a peer that broke the DAG stream protocol
// or stalled, and disconnects it before the fetch goes on (so the bitswap
// fallback starts without it; the node's callback bans it from redials).
func (e *Exchange) reportBad(p peer.ID, err error) {
	if e.onBadPeer != nil {
		e.onBadPeer(p, "DAG stream: "+err.Error())
	} else if e.onBad != nil {
		e.onBad(p, cid.Undef)
	}
	_ = e.host.Network().ClosePeer(p)
}

// batchWriter stores verified blocks in batches of up to putBatchBytes,
// on its own goroutine, so the next batch is read while one is written.
type batchWriter struct {
	ctx     context.Context
	e       *Exchange
	f       *streamFetch
	ch      chan []blocks.Block
	done    chan struct{}
	pending []blocks.Block
	bytes   int
	n       int // blocks stored (read after close)
	err     error
	mu      sync.Mutex
}

func newBatchWriter(ctx context.Context, e *Exchange, f *streamFetch) *batchWriter {
	w := &batchWriter{ctx: ctx, e: e, f: f, ch: make(chan []blocks.Block, 1), done: make(chan struct{})}
	go w.run()
	return w
}

func (w *batchWriter) run() {
	defer close(w.done)
	for batch := range w.ch {
		if w.failed() != nil {
			continue
		}
		var bad error
		for i, b := range batch {
			if b.Cid().Type() == cid.Raw && !matches(b.Cid(), b.RawData()) {
				bad = fmt.Errorf("%w: block %s does not match its CID (corrupt data)", ErrStreamProtocol, b.Cid())
				batch = batch[:i] // the verified blocks before it are kept
				break
			}
		}
		if len(batch) > 0 {
			if err := w.e.store.bs.PutMany(w.ctx, batch); err != nil {
				bad = fmt.Errorf("%w: %v", ErrStoreWrite, err)
				batch = nil
			}
		}
		if bad != nil {
			w.mu.Lock()
			w.err = bad
			w.mu.Unlock()
		}
		if len(batch) == 0 {
			continue
		}
		n := 0
		for _, b := range batch {
			n += len(b.RawData())
		}
		w.e.store.touch(n)
		_ = w.e.bs.NotifyNewBlocks(w.ctx, batch...) // serve them to peers that want them
		w.f.stored(batch)
		w.n += len(batch)
	}
}

func (w *batchWriter) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// add queues b; a full batch goes to the store.
func (w *batchWriter) add(b blocks.Block) error {
	w.pending = append(w.pending, b)
	if w.bytes += len(b.RawData()); w.bytes >= putBatchBytes {
		w.flush()
	}
	return w.failed()
}

func (w *batchWriter) flush() {
	if len(w.pending) > 0 {
		w.ch <- w.pending
		w.pending, w.bytes = nil, 0
	}
}

// close stores what is queued and returns the first write error.
func (w *batchWriter) close() error {
	w.flush()
	close(w.ch)
	<-w.done
	return w.failed()
}

// streamErr words an error that ended a stream fetch.
func streamErr(ctx context.Context, root cid.Cid, err error) error {
	switch {
	case errors.Is(err, ErrStoreWrite):
		return fmt.Errorf("fetch %s: %w; the blocks stored so far are kept: fix the disk, then fetch again to resume", root, err)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("fetch %s: %w (%v); the blocks stored so far are kept: fetch again to resume, or raise --timeout", root, ErrTimeout, err)
	}
	return fmt.Errorf("fetch %s: %w", root, err)
}

// monotonic passes progress on without ever going back (a stream fetch
// handed to bitswap counts again from what is held).
func monotonic(p func(done, total int64)) func(done, total int64) {
	if p == nil {
		return nil
	}
	var mu sync.Mutex
	var last int64
	return func(done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		last = max(last, done)
		p(last, total)
	}
}

// isTimeout: a read deadline passed (yamux's error is a net.Error).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}
