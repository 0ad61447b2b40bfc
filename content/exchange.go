package content

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/boxo/bitswap"
	bsmsg "github.com/ipfs/boxo/bitswap/message"
	"github.com/ipfs/boxo/bitswap/network/bsnet"
	"github.com/ipfs/boxo/exchange"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/boxo/verifcid"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/multiformats/go-multihash"
)

// ErrTimeout is wrapped by Fetch's error when the blocks did not all come
// within FetchOptions.Timeout.
var ErrTimeout = errors.New("timed out")

// ErrBadCID is wrapped by ParseCID and Fetch for a CID that is malformed or
// uses a codec or hash this store does not accept.
var ErrBadCID = errors.New("bad CID")

// ParseCID parses s and checks that it is a CID Fetch accepts: dag-pb or
// raw, hashed with sha2-256.
func ParseCID(s string) (cid.Cid, error) {
	c, err := cid.Decode(s)
	if err != nil {
		return cid.Undef, fmt.Errorf("%w %q: %v", ErrBadCID, s, err)
	}
	if canon, ok := canonicalText(c, s); !ok {
		// base32 ignores the spare bits of its last character: a typo
		// there decodes to the CID of another spelling.
		return cid.Undef, fmt.Errorf("%w %q: not the canonical spelling of a CID (it decodes to %s); check it for a typo", ErrBadCID, s, canon)
	}
	return c, checkCID(c)
}

// canonicalText reports whether s is how c is written: CIDv0 in base58,
// CIDv1 in base32 (either case). Other multibases are taken as given.
func canonicalText(c cid.Cid, s string) (string, bool) {
	canon := c.String()
	switch {
	case c.Version() == 0:
		return canon, s == canon
	case s != "" && (s[0] == 'b' || s[0] == 'B'):
		return canon, strings.ToLower(s) == canon
	}
	return canon, true
}

func checkCID(c cid.Cid) error {
	if !c.Defined() {
		return fmt.Errorf("%w: undefined", ErrBadCID)
	}
	if c.Type() != cid.Raw && c.Type() != cid.DagProtobuf {
		return fmt.Errorf("%w %s: codec 0x%x (want dag-pb or raw)", ErrBadCID, c, c.Type())
	}
	if c.Prefix().MhType != multihash.SHA2_256 {
		// Blocks are made with sha2-256; boxo would also accept identity
		// hashes, which carry their data inline and are never fetched.
		return fmt.Errorf("%w %s: hash 0x%x (want sha2-256)", ErrBadCID, c, c.Prefix().MhType)
	}
	if err := verifcid.ValidateCid(verifcid.DefaultAllowlist, c); err != nil {
		return fmt.Errorf("%w %s: %v", ErrBadCID, c, err)
	}
	return nil
}

// ExchangeOptions tune NewExchange.
type ExchangeOptions struct {
	// Routing finds providers of a CID (the node's DHT). Nil: only
	// connected peers are asked. If it can also announce (Router: the
	// DHT can), Start announces the pinned roots through it.
	Routing routing.ContentDiscovery
	// ReprovideInterval is how often Start's Provider announces every
	// pinned root again; 0 is DefaultReprovideInterval (22 h).
	ReprovideInterval time.Duration
	// OnUnwantedBlock, if set, is called when a peer sends a block this
	// node did not ask for and does not hold, which is what a corrupted
	// block looks like: its CID is recomputed from its bytes, so it never
	// matches a want and is dropped. The Exchange disconnects the peer
	// either way; the node may also ban it (p2p.Host.Penalize). Called on
	// bitswap's goroutines; must not block.
	OnUnwantedBlock func(peer.ID, cid.Cid)
	// OnBadPeer, if set, is called with a reason when a peer breaks the
	// DAG stream protocol (a block that does not match its CID, an
	// unexpected block, an oversized frame, a truncated stream) or stalls
	// past StreamIdleTimeout. The Exchange disconnects the peer either
	// way; the node may also ban it (p2p.Host.Penalize). Nil: such peers
	// are given to OnUnwantedBlock with an undefined CID. Must not block.
	OnBadPeer func(p peer.ID, reason string)
	// StreamIdleTimeout is how long a DAG stream waits for the peer's
	// next bytes; 0 is DefaultStreamIdleTimeout.
	StreamIdleTimeout time.Duration
}

// Exchange fetches and serves blocks of a Store with bitswap on a libp2p
// host.
type Exchange struct {
	store *Store
	bs    *bitswap.Bitswap
	host  host.Host

	mu     sync.Mutex
	wanted map[string]int       // multihash -> number of fetches wanting it
	recent map[string]time.Time // multihash -> when the last fetch stopped wanting it
	onBad  func(peer.ID, cid.Cid)
	pruned time.Time

	// The DAG stream protocol (stream.go).
	ctx       context.Context
	idle      time.Duration
	serving   chan struct{} // one token per stream served
	onBadPeer func(peer.ID, string)
	streamed  atomic.Int64    // blocks served by DAG streams
	perPeer   map[peer.ID]int // DAG streams being served, by peer (under mu)
}

// ErrStoreWrite is wrapped by Fetch's error when a fetched block could not
// be written to the store (disk full, I/O error).
var ErrStoreWrite = errors.New("writing to the content store failed")

// NewExchange starts bitswap on h over s: it serves every block s holds to
// peers that ask, and fetches for Fetch. Close stops it (not h).
func NewExchange(ctx context.Context, h host.Host, s *Store, o ExchangeOptions) *Exchange {
	e := &Exchange{store: s, host: h, wanted: map[string]int{}, recent: map[string]time.Time{}, onBad: o.OnUnwantedBlock,
		ctx: ctx, idle: o.StreamIdleTimeout, serving: make(chan struct{}, maxServeStreams), onBadPeer: o.OnBadPeer, perPeer: map[peer.ID]int{}}
	if e.idle <= 0 {
		e.idle = DefaultStreamIdleTimeout
	}
	h.SetStreamHandler(streamProtocol, e.serveStream)
	net := bsnet.NewFromIpfsHost(h)
	e.bs = bitswap.New(ctx, net, o.Routing, servedStore{s.bs, s},
		bitswap.WithTracer(tracer{e}),
		bitswap.ProviderSearchDelay(time.Second),
		// bitswap's default keeps 1 MiB (4 blocks) queued per peer, too
		// little to fill a fast link; 16 MiB keeps the pipe full.
		bitswap.MaxOutstandingBytesPerPeer(16<<20),
	)
	return e
}

// Close stops bitswap and the DAG stream server.
func (e *Exchange) Close() error {
	e.host.RemoveStreamHandler(streamProtocol)
	return e.bs.Close()
}

// Stats are bitswap's counters.
func (e *Exchange) Stats() (received, sent uint64, err error) {
	st, err := e.bs.Stat()
	if err != nil {
		return 0, 0, err
	}
	return st.BlocksReceived, st.BlocksSent, nil
}

type tracer struct{ e *Exchange }

func (t tracer) MessageReceived(p peer.ID, m bsmsg.BitSwapMessage) {
	for _, b := range m.Blocks() {
		h := b.Cid().Hash()
		t.e.mu.Lock()
		_, ok := t.e.wanted[string(h)]
		if _, late := t.e.recent[string(h)]; late {
			ok = true // asked for by a fetch that ended (timed out, failed) since
		}
		t.e.mu.Unlock()
		if ok {
			continue
		}
		// A late duplicate of a block we fetched is no offence.
		if has, err := t.e.store.bs.Has(context.Background(), b.Cid()); err != nil || has {
			continue
		}
		if t.e.onBad != nil {
			t.e.onBad(p, b.Cid())
		}
		// Drop the connection so bitswap stops waiting on this peer; the
		// node's callback may also ban it.
		go t.e.host.Network().ClosePeer(p)
	}
}

func (tracer) MessageSent(peer.ID, bsmsg.BitSwapMessage) {}

func (e *Exchange) want(cs []cid.Cid, add int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	for _, c := range cs {
		k := string(c.Hash())
		if e.wanted[k] += add; e.wanted[k] <= 0 {
			delete(e.wanted, k)
			e.recent[k] = now
		}
	}
	if add < 0 && now.Sub(e.pruned) > lateWindow/2 {
		e.pruned = now
		for k, t := range e.recent {
			if now.Sub(t) > lateWindow {
				delete(e.recent, k)
			}
		}
	}
}

// lateWindow is how long a block a fetch asked for may still arrive after
// the fetch ended without the sender being taken for a corrupting peer.
const lateWindow = 2 * time.Minute

// FetchOptions tune Fetch.
type FetchOptions struct {
	// Timeout bounds the whole fetch; 0 means only ctx bounds it.
	Timeout time.Duration
	// Progress, if set, is called after each block with the file bytes
	// held so far and the file's size (0 until the root is known).
	Progress func(done, total int64)
	// NoPin leaves the fetched root unpinned.
	NoPin bool
	// BitswapOnly skips the DAG stream protocol: blocks come by bitswap
	// alone, as from IPFS peers (for measuring and for debugging).
	BitswapOnly bool
	// Limits bound the DAG; zero fields take the store's (Store.Limits).
	// The fetch stops as soon as the root's file size, the distinct
	// blocks or their bytes pass them, and the logical size is checked
	// (Stat) before anything is pinned or written.
	Limits Limits
}

// FetchResult says what a fetch did.
type FetchResult struct {
	Size      int64         // the file's size (0 for a directory)
	Blocks    int           // blocks of the DAG
	Held      int           // of them, already in the store (not fetched again)
	Received  int           // of them, received from peers
	Streamed  int           // of those received, by the DAG stream protocol (the rest by bitswap)
	FirstByte time.Duration // from the start to the first block from a peer (0: none)
	Duration  time.Duration // the whole fetch, output file included
}

// batchSize is how many CIDs one bitswap request asks for at once.
const batchSize = 512

// Fetch gets the DAG under c into the store from connected peers (and
// providers found through routing), pins it, and, if out is not empty,
// writes the file to out atomically: a temporary file beside it, synced,
// then renamed. Blocks already held are not fetched again, so a fetch
// that failed resumes where it stopped. Every block is checked against its
// CID by bitswap. On error no file is left at out.
func (e *Exchange) Fetch(ctx context.Context, c cid.Cid, out string, o FetchOptions) error {
	_, err := e.Get(ctx, c, out, o)
	return err
}

// Get is Fetch, also saying how many blocks were held and received.
func (e *Exchange) Get(ctx context.Context, c cid.Cid, out string, o FetchOptions) (FetchResult, error) {
	start := time.Now()
	var res FetchResult
	if err := checkCID(c); err != nil {
		return res, err
	}
	var tmp *os.File
	if out != "" {
		var err error
		tmp, err = os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".part-*")
		if err != nil {
			return res, fmt.Errorf("fetch %s: cannot write the output beside %s: %w (choose a writable -o path)", c, out, err)
		}
		defer func() {
			if tmp != nil {
				tmp.Close()
				os.Remove(tmp.Name())
			}
		}()
	}
	e.store.gc.RLock()
	defer e.store.gc.RUnlock()
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	lim := o.Limits
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = e.store.Limits().MaxBytes
	}
	if lim.MaxBlocks <= 0 {
		lim.MaxBlocks = e.store.Limits().MaxBlocks
	}
	o.Progress = monotonic(o.Progress)
	var f *streamFetch
	var serr error = errNoStreamPeer
	if !o.BitswapOnly {
		f, serr = e.streamDAG(ctx, c, o, lim, start, &res)
		if serr != nil && fatalFetchErr(serr) {
			f.count(&res, false)
			return res, streamErr(ctx, c, serr)
		}
	}
	if serr != nil {
		// Bitswap takes what streams could not: it reads what they stored.
		if err := e.fetchDAG(ctx, c, o, lim, start, &res); err != nil {
			f.count(&res, false)
			return res, err
		}
	}
	// The fetch stored each distinct block once; what the DAG describes
	// (a block linked twice counts twice) is checked before it is used.
	st, err := stat(ctx, e.store.bs, c, lim)
	if err != nil {
		f.count(&res, false)
		return res, fmt.Errorf("fetch %s: %w", c, err)
	}
	if serr == nil {
		res.Blocks = st.Blocks
	}
	f.count(&res, true)
	if !o.NoPin {
		if err := e.store.pinChecked(ctx, c); err != nil {
			return res, err
		}
	}
	res.Duration = time.Since(start)
	if tmp == nil {
		return res, nil
	}
	if st.Dir {
		return res, fmt.Errorf("fetch %s: it is a directory; fetched and pinned, but only files can be written to %s", c, out)
	}
	r, err := e.store.catChecked(ctx, c)
	if err != nil {
		return res, err
	}
	defer r.Close()
	if _, err := io.Copy(tmp, r); err != nil {
		return res, fmt.Errorf("fetch %s: write %s: %w", c, tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return res, fmt.Errorf("fetch %s: %w", c, err)
	}
	if err := tmp.Close(); err != nil {
		return res, fmt.Errorf("fetch %s: %w", c, err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		os.Remove(tmp.Name())
		tmp = nil
		return res, fmt.Errorf("fetch %s: %w", c, err)
	}
	tmp = nil
	res.Duration = time.Since(start)
	return res, nil
}

// fetchDAG fetches the DAG level by level, each level in batches through
// one bitswap session, so many blocks are in flight at once. Blocks held
// are read locally; received blocks are written to the store in batches
// (one Badger write for up to putBatchBytes of blocks that arrived
// together, instead of one per block). It stops with an error wrapping
// ErrTooLarge when the root's file size, the distinct blocks or their bytes
// pass lim, and one wrapping ErrBadDAG at a block over MaxBlockSize or
// MaxLinks.
func (e *Exchange) fetchDAG(ctx context.Context, root cid.Cid, o FetchOptions, lim Limits, start time.Time, res *FetchResult) error {
	sess := e.bs.NewSession(ctx)
	var done, total, bytes int64
	level := []cid.Cid{root}
	seen := map[string]bool{string(root.Hash()): true}
	var next []cid.Cid
	visit := func(b blocks.Block) error {
		c, data := b.Cid(), b.RawData()
		if c.Type() == cid.Raw {
			done += int64(len(data))
		}
		if bytes += int64(len(data)); bytes > lim.MaxBytes {
			return fmt.Errorf("fetch %s: %w", root, tooManyBytes(root, bytes, lim.MaxBytes))
		}
		if c.Equals(root) {
			total, _ = rootSize(c, data)
			res.Size = total
			if total > lim.MaxBytes {
				return fmt.Errorf("fetch %s: %w", root, tooManyBytes(root, total, lim.MaxBytes))
			}
		}
		ls, err := links(c, data)
		if err != nil {
			return fmt.Errorf("fetch %s: %w", root, err)
		}
		for _, l := range ls {
			if !seen[string(l.Hash())] {
				if len(seen) >= lim.MaxBlocks {
					return fmt.Errorf("fetch %s: %w", root, tooManyBlocks(root, lim.MaxBlocks))
				}
				seen[string(l.Hash())] = true
				next = append(next, l)
			}
		}
		if o.Progress != nil {
			o.Progress(done, total)
		}
		return nil
	}
	for len(level) > 0 {
		next = nil
		for start0 := 0; start0 < len(level); start0 += batchSize {
			batch := level[start0:min(start0+batchSize, len(level))]
			res.Blocks += len(batch)
			var misses []cid.Cid
			for _, c := range batch {
				if c.Type() == cid.Raw && !c.Equals(root) {
					// A held leaf only counts its size: no need to read
					// it back.
					if n, err := e.store.bs.GetSize(ctx, c); err == nil {
						res.Held++
						done += int64(n)
						if bytes += int64(n); bytes > lim.MaxBytes {
							return fmt.Errorf("fetch %s: %w", root, tooManyBytes(root, bytes, lim.MaxBytes))
						}
						if o.Progress != nil {
							o.Progress(done, total)
						}
						continue
					}
					misses = append(misses, c)
					continue
				}
				b, err := e.store.bs.Get(ctx, c)
				if err != nil {
					misses = append(misses, c)
					continue
				}
				res.Held++
				if err := visit(b); err != nil {
					return err
				}
			}
			if len(misses) == 0 {
				continue
			}
			got, err := e.receive(ctx, sess, misses, start, res, visit)
			res.Received += got
			if errors.Is(err, ErrStoreWrite) {
				return fmt.Errorf("fetch %s: %w; the blocks stored so far are kept: fix the disk, then fetch again to resume", root, err)
			}
			if err != nil {
				return err
			}
			if got < len(misses) {
				return e.fetchErr(ctx, root, done, total, len(misses)-got)
			}
		}
		level = next
	}
	return nil
}

// putBatchBytes bounds the blocks written to the store in one batch.
const putBatchBytes = 8 << 20

// receive asks the session for cs and stores what arrives, in batches:
// whatever has arrived when the previous write ends, up to putBatchBytes.
// It returns how many blocks were stored.
func (e *Exchange) receive(ctx context.Context, sess exchange.Fetcher, cs []cid.Cid, start time.Time, res *FetchResult, visit func(blocks.Block) error) (int, error) {
	e.want(cs, 1)
	defer e.want(cs, -1)
	ch, err := sess.GetBlocks(ctx, cs)
	if err != nil {
		return 0, err
	}
	stored := 0
	var pending []blocks.Block
	pendingBytes := 0
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		if err := e.store.bs.PutMany(ctx, pending); err != nil {
			return fmt.Errorf("%w: %v", ErrStoreWrite, err)
		}
		e.store.touch(pendingBytes)
		_ = e.bs.NotifyNewBlocks(ctx, pending...) // serve them to peers that want them
		for _, b := range pending {
			stored++
			if err := visit(b); err != nil {
				return err
			}
		}
		pending, pendingBytes = pending[:0], 0
		return nil
	}
	for b := range ch {
		if res.FirstByte == 0 {
			res.FirstByte = time.Since(start)
		}
		pending = append(pending, b)
		pendingBytes += len(b.RawData())
		// Take what else has already arrived, then write it all at once.
	more:
		for pendingBytes < putBatchBytes {
			select {
			case b, ok := <-ch:
				if !ok {
					break more
				}
				pending = append(pending, b)
				pendingBytes += len(b.RawData())
			default:
				break more
			}
		}
		if err := flush(); err != nil {
			return stored, err
		}
	}
	return stored, flush()
}

func (e *Exchange) fetchErr(ctx context.Context, root cid.Cid, done, total int64, missing int) error {
	err := ctx.Err()
	if errors.Is(err, context.DeadlineExceeded) {
		peers := len(e.host.Network().Peers())
		if total == 0 && done == 0 {
			// The root never came, so the size is unknown: "0 of 0 bytes"
			// would say the file was empty.
			return fmt.Errorf("fetch %s: %w before the first block arrived: none of the %d connected peers sent it (is a peer that holds the CID connected? check the CID; raise --timeout for a slow peer)",
				root, ErrTimeout, peers)
		}
		return fmt.Errorf("fetch %s: %w with %d of %d bytes and %d blocks of this round missing: none of the %d connected peers sent them (is a peer that holds the CID connected? raise --timeout for a slow peer)",
			root, ErrTimeout, done, total, missing, peers)
	}
	if err != nil {
		return fmt.Errorf("fetch %s: %w", root, err)
	}
	return fmt.Errorf("fetch %s: %d blocks did not arrive", root, missing)
}

// rootSize is the file size a root block announces, and whether it is a
// directory.
func rootSize(c cid.Cid, data []byte) (int64, bool) {
	if c.Type() == cid.Raw {
		return int64(len(data)), false
	}
	nd, err := merkledag.DecodeProtobuf(data)
	if err != nil {
		return 0, false
	}
	fs, err := unixfs.FSNodeFromBytes(nd.Data())
	if err != nil {
		return 0, false
	}
	switch fs.Type() {
	case unixfs.TDirectory, unixfs.THAMTShard:
		return 0, true
	}
	return int64(fs.FileSize()), false
}
