package statesync

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/ledger/store"
)

// Format is the snapshot format this package writes and restores.
const Format = 1

// ChunkSize is the size of every chunk but the last.
const ChunkSize = 4 << 20

// Limits on what a peer can make us hold.
const (
	MaxChunks   = 1 << 16 // 256 GiB of state at 4 MiB a chunk
	MaxKeyBytes = 64 << 10
	MaxValBytes = 64 << 20
)

// Errors.
var (
	ErrBadMetadata = errors.New("statesync: bad snapshot metadata")
	ErrBadChunk    = errors.New("statesync: chunk does not match its hash")
	ErrBadStream   = errors.New("statesync: malformed snapshot stream")
	ErrAppHash     = errors.New("statesync: app hash mismatch")
	ErrNoSnapshot  = errors.New("statesync: no such snapshot")
)

// Metadata describes one snapshot. Its canonical CBOR is what peers list.
type Metadata struct {
	_       struct{} `cbor:",toarray"`
	Height  uint64
	Format  uint32
	Chunks  [][]byte // sha256 of each chunk
	AppHash []byte   // 32 bytes: the app hash of the state at Height
	Size    uint64   // bytes in the stream
	Keys    uint64   // key/value records in the stream
}

// ValidateBasic checks the metadata's shape.
func (m *Metadata) ValidateBasic() error {
	switch {
	case m.Height == 0:
		return fmt.Errorf("%w: height 0", ErrBadMetadata)
	case m.Format != Format:
		return fmt.Errorf("%w: format %d, this node restores format %d", ErrBadMetadata, m.Format, Format)
	case len(m.Chunks) == 0 || len(m.Chunks) > MaxChunks:
		return fmt.Errorf("%w: %d chunks (want 1..%d)", ErrBadMetadata, len(m.Chunks), MaxChunks)
	case len(m.AppHash) != 32:
		return fmt.Errorf("%w: app hash of %d bytes", ErrBadMetadata, len(m.AppHash))
	case m.Size > uint64(len(m.Chunks))*ChunkSize || m.Size <= uint64(len(m.Chunks)-1)*ChunkSize:
		return fmt.Errorf("%w: %d bytes do not make %d chunks of %d", ErrBadMetadata, m.Size, len(m.Chunks), ChunkSize)
	}
	for i, h := range m.Chunks {
		if len(h) != 32 {
			return fmt.Errorf("%w: hash of chunk %d is %d bytes", ErrBadMetadata, i, len(h))
		}
	}
	return nil
}

// Hash identifies a snapshot: sha256 of its canonical encoding.
func (m *Metadata) Hash() [32]byte { return sha256.Sum256(codec.MustMarshal(m)) }

// chunkSize is the size of chunk i.
func (m *Metadata) chunkSize(i int) uint64 {
	if i == len(m.Chunks)-1 {
		return m.Size - uint64(i)*ChunkSize
	}
	return ChunkSize
}

// Store keeps snapshots under a directory, one subdirectory each
// (<height>-<format>/meta and chunk files). See the package comment.
type Store struct{ dir string }

// OpenStore opens (creating) the snapshot directory and removes what an
// interrupted Create left.
func OpenStore(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return nil, err
			}
		}
	}
	return &Store{dir: dir}, nil
}

func (s *Store) path(height uint64, format uint32) string {
	return filepath.Join(s.dir, fmt.Sprintf("%d-%d", height, format))
}

// chunkWriter cuts the stream into chunk files and hashes them.
type chunkWriter struct {
	dir    string
	buf    []byte
	hashes [][]byte
	size   uint64
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		take := min(ChunkSize-len(w.buf), len(p))
		w.buf = append(w.buf, p[:take]...)
		p = p[take:]
		if len(w.buf) == ChunkSize {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	h := sha256.Sum256(w.buf)
	name := filepath.Join(w.dir, fmt.Sprintf("%06d", len(w.hashes)))
	if err := writeSynced(name, w.buf); err != nil {
		return err
	}
	w.hashes = append(w.hashes, h[:])
	w.size += uint64(len(w.buf))
	w.buf = w.buf[:0]
	return nil
}

func writeSynced(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// WriteStream writes the canonical stream of the state r reads to w and
// returns the number of records.
func WriteStream(w io.Writer, r store.Reader) (uint64, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	var n uint64
	var werr error
	var lb [binary.MaxVarintLen64]byte
	put := func(b []byte) {
		if werr != nil {
			return
		}
		k := binary.PutUvarint(lb[:], uint64(len(b)))
		if _, werr = bw.Write(lb[:k]); werr == nil {
			_, werr = bw.Write(b)
		}
	}
	err := r.Iterate(nil, func(k, v []byte) bool {
		put(k)
		put(v)
		n++
		return werr == nil
	})
	if err == nil {
		err = werr
	}
	if err == nil {
		err = bw.Flush()
	}
	return n, err
}

// Create writes the snapshot of the state at height (read through r, whose
// app hash is appHash) and returns its metadata. An existing snapshot of
// that height is returned as it is.
func (s *Store) Create(height uint64, r store.Reader, appHash [32]byte) (Metadata, error) {
	if m, err := s.Metadata(height, Format); err == nil {
		return m, nil
	}
	tmp, err := os.MkdirTemp(s.dir, fmt.Sprintf(".tmp-%d-", height))
	if err != nil {
		return Metadata{}, err
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	cw := &chunkWriter{dir: tmp, buf: make([]byte, 0, ChunkSize)}
	keys, err := WriteStream(cw, r)
	if err == nil {
		err = cw.flush()
	}
	if err != nil {
		return Metadata{}, fmt.Errorf("snapshot at height %d: %w", height, err)
	}
	m := Metadata{Height: height, Format: Format, Chunks: cw.hashes, AppHash: appHash[:], Size: cw.size, Keys: keys}
	if err := m.ValidateBasic(); err != nil {
		return Metadata{}, fmt.Errorf("snapshot at height %d: %w", height, err)
	}
	if err := writeSynced(filepath.Join(tmp, "meta"), codec.MustMarshal(&m)); err != nil {
		return Metadata{}, err
	}
	if err := os.Rename(tmp, s.path(height, Format)); err != nil {
		return Metadata{}, fmt.Errorf("snapshot at height %d: %w", height, err)
	}
	if d, err := os.Open(s.dir); err == nil {
		d.Sync()
		d.Close()
	}
	return m, nil
}

// Metadata reads the metadata of one stored snapshot.
func (s *Store) Metadata(height uint64, format uint32) (Metadata, error) {
	raw, err := os.ReadFile(filepath.Join(s.path(height, format), "meta"))
	if errors.Is(err, os.ErrNotExist) {
		return Metadata{}, fmt.Errorf("%w: height %d format %d", ErrNoSnapshot, height, format)
	}
	if err != nil {
		return Metadata{}, err
	}
	var m Metadata
	if err := codec.Unmarshal(raw, &m); err != nil {
		return Metadata{}, fmt.Errorf("%w: %s: %v", ErrBadMetadata, s.path(height, format), err)
	}
	return m, m.ValidateBasic()
}

// List returns the stored snapshots, newest first (ListSnapshots).
func (s *Store) List() ([]Metadata, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var out []Metadata
	for _, e := range ents {
		h, f, ok := parseName(e.Name())
		if !ok {
			continue
		}
		m, err := s.Metadata(h, f)
		if err != nil {
			continue // an unreadable snapshot is not offered
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Height > out[j].Height })
	return out, nil
}

func parseName(name string) (uint64, uint32, bool) {
	hs, fs, ok := strings.Cut(name, "-")
	if !ok {
		return 0, 0, false
	}
	h, err1 := strconv.ParseUint(hs, 10, 64)
	f, err2 := strconv.ParseUint(fs, 10, 32)
	return h, uint32(f), err1 == nil && err2 == nil
}

// LoadChunk returns chunk index of a stored snapshot (LoadSnapshotChunk).
func (s *Store) LoadChunk(height uint64, format, index uint32) ([]byte, error) {
	if index >= MaxChunks {
		return nil, fmt.Errorf("%w: chunk %d", ErrNoSnapshot, index)
	}
	b, err := os.ReadFile(filepath.Join(s.path(height, format), fmt.Sprintf("%06d", index)))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: height %d format %d chunk %d", ErrNoSnapshot, height, format, index)
	}
	return b, err
}

// Prune keeps the keep newest snapshots and deletes the others.
func (s *Store) Prune(keep int) error {
	list, err := s.List()
	if err != nil {
		return err
	}
	for i := keep; i < len(list); i++ {
		if err := os.RemoveAll(s.path(list[i].Height, list[i].Format)); err != nil {
			return err
		}
	}
	return nil
}
