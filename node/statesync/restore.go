package statesync

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/store"
	"github.com/inferd/inferd/node/blocks"
)

// Peer is where snapshots come from: another node over libp2p, or a Store
// in-process (LocalPeer).
type Peer interface {
	// ID names the peer in errors and logs.
	ID() string
	// ListSnapshots returns the peer's snapshots (not yet checked).
	ListSnapshots(ctx context.Context) ([]Metadata, error)
	// LoadChunk returns one chunk (not yet checked).
	LoadChunk(ctx context.Context, height uint64, format, index uint32) ([]byte, error)
}

// LocalPeer serves a Store in-process.
type LocalPeer struct {
	Name  string
	Store *Store
}

// ID implements Peer.
func (p LocalPeer) ID() string { return p.Name }

// ListSnapshots implements Peer.
func (p LocalPeer) ListSnapshots(context.Context) ([]Metadata, error) { return p.Store.List() }

// LoadChunk implements Peer.
func (p LocalPeer) LoadChunk(_ context.Context, h uint64, f, i uint32) ([]byte, error) {
	return p.Store.LoadChunk(h, f, i)
}

// Offer is a snapshot that peers hold, with the peers that offered it.
type Offer struct {
	Meta  Metadata
	Peers []Peer
}

// Discover asks every peer for its snapshots and groups identical ones (by
// metadata hash), newest first; malformed metadata is skipped and so is a
// snapshot below minHeight.
func Discover(ctx context.Context, peers []Peer, minHeight uint64) []Offer {
	byHash := map[[32]byte]*Offer{}
	var order [][32]byte
	for _, p := range peers {
		list, err := p.ListSnapshots(ctx)
		if err != nil {
			continue
		}
		for _, m := range list {
			if m.ValidateBasic() != nil || m.Height < minHeight {
				continue
			}
			h := m.Hash()
			o, ok := byHash[h]
			if !ok {
				o = &Offer{Meta: m}
				byHash[h] = o
				order = append(order, h)
			}
			o.Peers = append(o.Peers, p)
		}
	}
	out := make([]Offer, 0, len(order))
	for _, h := range order {
		out = append(out, *byHash[h])
	}
	// Newest first; at one height, the most widely held first.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && (out[j].Meta.Height > out[j-1].Meta.Height || out[j].Meta.Height == out[j-1].Meta.Height && len(out[j].Peers) > len(out[j-1].Peers)); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// Rejection records a peer dropped during a fetch and why.
type Rejection struct {
	Peer   string
	Reason string
}

// Fetch downloads every chunk of meta from peers, with up to parallel
// requests at once, checking each against its hash. A peer that serves a
// chunk that does not match is rejected for the rest of the fetch and the
// chunk is asked of the next peer; a peer that fails to answer is tried
// again only after the others. It returns the chunks in order and the
// rejected peers, or an error naming the chunk no peer could serve.
func Fetch(ctx context.Context, meta Metadata, peers []Peer, parallel int) ([][]byte, []Rejection, error) {
	if err := meta.ValidateBasic(); err != nil {
		return nil, nil, err
	}
	if len(peers) == 0 {
		return nil, nil, errors.New("statesync: no peer to fetch the snapshot from")
	}
	parallel = max(1, min(parallel, len(meta.Chunks)))
	var (
		mu       sync.Mutex
		rejected = map[string]bool{}
		rejects  []Rejection
	)
	chunks := make([][]byte, len(meta.Chunks))
	errs := make([]error, len(meta.Chunks))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				chunks[i], errs[i] = fetchOne(ctx, meta, i, peers, &mu, rejected, &rejects)
			}
		}()
	}
	for i := range meta.Chunks {
		select {
		case next <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(next)
	wg.Wait()
	if ctx.Err() != nil {
		return nil, rejects, ctx.Err()
	}
	for _, err := range errs {
		if err != nil {
			return nil, rejects, err
		}
	}
	return chunks, rejects, nil
}

func fetchOne(ctx context.Context, meta Metadata, i int, peers []Peer, mu *sync.Mutex, rejected map[string]bool, rejects *[]Rejection) ([]byte, error) {
	var lastErr error
	for try := 0; try < len(peers); try++ {
		p := peers[(i+try)%len(peers)]
		mu.Lock()
		bad := rejected[p.ID()]
		mu.Unlock()
		if bad {
			continue
		}
		b, err := p.LoadChunk(ctx, meta.Height, meta.Format, uint32(i))
		if err != nil {
			lastErr = fmt.Errorf("peer %s: %w", p.ID(), err)
			continue
		}
		if h := sha256.Sum256(b); uint64(len(b)) != meta.chunkSize(i) || !bytes.Equal(h[:], meta.Chunks[i]) {
			mu.Lock()
			if !rejected[p.ID()] {
				rejected[p.ID()] = true
				*rejects = append(*rejects, Rejection{Peer: p.ID(), Reason: fmt.Sprintf("chunk %d of snapshot %d: %d bytes, sha256 %x, want %d bytes, %x", i, meta.Height, len(b), h[:4], meta.chunkSize(i), meta.Chunks[i][:4])})
			}
			mu.Unlock()
			lastErr = fmt.Errorf("%w: chunk %d from peer %s", ErrBadChunk, i, p.ID())
			continue
		}
		return b, nil
	}
	if lastErr == nil {
		lastErr = errors.New("every peer was rejected")
	}
	return nil, fmt.Errorf("statesync: chunk %d of snapshot %d: no peer served it: %w", i, meta.Height, lastErr)
}

// Apply decodes the stream of verified chunks and commits it into dst, an
// empty store, as the state of meta.Height; then it recomputes the app
// hash and checks it against the state's own record and the metadata.
func Apply(dst store.Store, meta Metadata, chunks [][]byte) error {
	if _, has := dst.Latest(); has {
		return errors.New("statesync: restore into a store that is not empty")
	}
	readers := make([]io.Reader, len(chunks))
	for i, c := range chunks {
		readers[i] = bytes.NewReader(c)
	}
	changes, err := ReadStream(io.MultiReader(readers...), meta.Keys)
	if err != nil {
		return err
	}
	if err := dst.Commit(meta.Height, changes); err != nil {
		return fmt.Errorf("statesync: write the restored state: %w", err)
	}
	// Heights below the snapshot were never here: say so to readers,
	// instead of showing them an empty state.
	if p, ok := dst.(store.Pruner); ok {
		if err := p.Prune(meta.Height); err != nil {
			return fmt.Errorf("statesync: mark the restored state's oldest height: %w", err)
		}
	}
	r, err := dst.At(meta.Height)
	if err != nil {
		return err
	}
	computed, recorded, err := ledger.AppHashOf(r)
	if err != nil {
		return err
	}
	switch {
	case !bytes.Equal(computed[:], recorded[:]):
		return fmt.Errorf("%w: the restored state hashes to %x but records %x", ErrAppHash, computed[:6], recorded[:6])
	case !bytes.Equal(computed[:], meta.AppHash):
		return fmt.Errorf("%w: the restored state hashes to %x, the snapshot's metadata says %x", ErrAppHash, computed[:6], meta.AppHash[:6])
	}
	return nil
}

// ReadStream decodes a canonical stream of want records: keys strictly
// ascending, sizes bounded, nothing after the last record.
func ReadStream(r io.Reader, want uint64) ([]store.Change, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var out []store.Change
	var prev []byte
	read := func(limit uint64, what string) ([]byte, error) {
		n, err := binary.ReadUvarint(br)
		if err != nil {
			return nil, fmt.Errorf("%w: record %d: %s length: %v", ErrBadStream, len(out), what, err)
		}
		if n > limit {
			return nil, fmt.Errorf("%w: record %d: %s of %d bytes (limit %d)", ErrBadStream, len(out), what, n, limit)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return nil, fmt.Errorf("%w: record %d: %s truncated", ErrBadStream, len(out), what)
		}
		return b, nil
	}
	for uint64(len(out)) < want {
		k, err := read(MaxKeyBytes, "key")
		if err != nil {
			return nil, err
		}
		if len(out) > 0 && bytes.Compare(k, prev) <= 0 {
			return nil, fmt.Errorf("%w: record %d: key not after the previous one", ErrBadStream, len(out))
		}
		v, err := read(MaxValBytes, "value")
		if err != nil {
			return nil, err
		}
		out = append(out, store.Change{Key: k, Value: v})
		prev = k
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return nil, fmt.Errorf("%w: bytes after the %d records", ErrBadStream, want)
	}
	return out, nil
}

// VerifyHeader checks the header of height meta.Height+1 (whose AppHash is
// the state after meta.Height) against a commit signed by more than 2/3 of
// vals, the validator set the node trusts, and that it vouches for the
// snapshot's app hash. With trustHash set, the header must also have that
// hash (the operator's trust_height + trust_hash).
func VerifyHeader(chainID string, vals *consensus.ValidatorSet, hdr *blocks.Header, c blocks.Commit, meta Metadata, trustHash []byte) error {
	id := hdr.Hash()
	switch {
	case hdr.ChainID != chainID:
		return fmt.Errorf("statesync: header of chain %q, want %q", hdr.ChainID, chainID)
	case hdr.Height != meta.Height+1:
		return fmt.Errorf("statesync: header of height %d for a snapshot of height %d (want %d)", hdr.Height, meta.Height, meta.Height+1)
	case c.Height != hdr.Height:
		return fmt.Errorf("statesync: commit of height %d for header %d", c.Height, hdr.Height)
	case len(trustHash) > 0 && !bytes.Equal(id[:], trustHash):
		return fmt.Errorf("statesync: header %d has hash %x, the trusted hash is %x", hdr.Height, id[:6], trustHash)
	}
	if err := blocks.VerifyCommit(chainID, vals, c, id); err != nil {
		return fmt.Errorf("statesync: header %d is not signed by more than 2/3 of the trusted validators: %w", hdr.Height, err)
	}
	if !bytes.Equal(hdr.AppHash[:], meta.AppHash) {
		return fmt.Errorf("%w: snapshot of height %d has app hash %x, but header %d, signed by more than 2/3 of the trusted validators, says %x; refusing the snapshot", ErrAppHash, meta.Height, meta.AppHash[:6], hdr.Height, hdr.AppHash[:6])
	}
	return nil
}
