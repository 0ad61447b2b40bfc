// Package wal is the consensus write-ahead log and signing guard of a
// validator: before any message it signs leaves the process, the Machine's
// State (height, round, step, lock, valid value, last signed record) and the
// signed message are appended and fsynced. After a crash, Open reads back
// the last record: the validator resumes where it was and its guard refuses
// anything that conflicts with what it signed.
//
// File format: a sequence of records, each
//
//	length (4 bytes, big endian) | CRC-32C of body (4 bytes) | body
//
// where body is the canonical CBOR of [State, signed message]. A record cut
// short at the end of the file (a torn write) is truncated away on Open; a
// bad record followed by more data is corruption and Open fails with
// ErrCorrupt. When the file grows past a limit it is rewritten with only the
// last record (write to a temporary file, fsync, rename, fsync the directory).
//
// A WAL is owned by one goroutine (the node's consensus loop); it is not safe
// for concurrent use.
package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
)

// ErrCorrupt is returned by Open when a record in the middle of the log is
// damaged: the node must stop and an operator must look.
var ErrCorrupt = errors.New("wal: corrupt record in the middle of the log")

const (
	headerLen = 8
	// MaxRecord bounds one record; a larger length field is corruption.
	MaxRecord = 1 << 20
)

// compactAt is the file size beyond which Persist rewrites the log (a
// variable only so that the test can lower it).
var compactAt int64 = 4 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

type record struct {
	_     struct{} `cbor:",toarray"`
	State consensus.State
	Msg   []byte // consensus.EncodeMessage of the signed message
}

// WAL is an open log.
type WAL struct {
	f    *os.File
	path string
	size int64
	last *record
}

// Open opens (or creates) the log at path and reads it back.
func Open(path string) (*WAL, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("wal: open %s: %w", path, err)
	}
	w := &WAL{f: f, path: path}
	if err := w.load(); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

func (w *WAL) load() error {
	data, err := io.ReadAll(w.f)
	if err != nil {
		return fmt.Errorf("wal: read %s: %w", w.path, err)
	}
	off := 0
	for off < len(data) {
		rest := data[off:]
		if len(rest) < headerLen {
			break // torn header
		}
		n := int(binary.BigEndian.Uint32(rest[0:4]))
		if n > MaxRecord {
			return fmt.Errorf("%w: %s offset %d: record length %d", ErrCorrupt, w.path, off, n)
		}
		if len(rest) < headerLen+n {
			break // torn body
		}
		body := rest[headerLen : headerLen+n]
		if crc32.Checksum(body, crcTable) != binary.BigEndian.Uint32(rest[4:8]) {
			if len(rest) == headerLen+n {
				break // the last record, damaged while being written
			}
			return fmt.Errorf("%w: %s offset %d: checksum mismatch with %d bytes after it", ErrCorrupt, w.path, off, len(rest)-headerLen-n)
		}
		rec := new(record)
		if err := codec.Unmarshal(body, rec); err != nil {
			return fmt.Errorf("%w: %s offset %d: %v", ErrCorrupt, w.path, off, err)
		}
		if err := rec.State.ValidateBasic(); err != nil {
			return fmt.Errorf("%w: %s offset %d: %v", ErrCorrupt, w.path, off, err)
		}
		w.last = rec
		off += headerLen + n
	}
	if off < len(data) {
		if err := w.f.Truncate(int64(off)); err != nil {
			return fmt.Errorf("wal: truncate torn tail of %s: %w", w.path, err)
		}
		if err := w.f.Sync(); err != nil {
			return fmt.Errorf("wal: sync %s: %w", w.path, err)
		}
	}
	w.size = int64(off)
	_, err = w.f.Seek(w.size, io.SeekStart)
	return err
}

// State returns the last persisted State, if any: pass it to
// consensus.NewMachine after a restart.
func (w *WAL) State() (consensus.State, bool) {
	if w.last == nil {
		return consensus.State{}, false
	}
	return w.last.State, true
}

// LastSigned returns the last signed message, to re-send after a restart
// (it may not have left before the crash). nil if none.
func (w *WAL) LastSigned() consensus.Message {
	if w.last == nil || len(w.last.Msg) == 0 {
		return nil
	}
	m, err := consensus.DecodeMessage(w.last.Msg)
	if err != nil {
		return nil
	}
	return m
}

// Persist appends State and the signed message and fsyncs.
func (w *WAL) Persist(st consensus.State, signed consensus.Message) error {
	rec := &record{State: st}
	if signed != nil {
		rec.Msg = consensus.EncodeMessage(signed)
	}
	frame := encodeFrame(rec)
	if w.size+int64(len(frame)) > compactAt {
		return w.rewrite(frame, rec)
	}
	if _, err := w.f.Write(frame); err != nil {
		return fmt.Errorf("wal: write %s: %w", w.path, err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("wal: sync %s: %w", w.path, err)
	}
	w.size += int64(len(frame))
	w.last = rec
	return nil
}

func encodeFrame(rec *record) []byte {
	body := codec.MustMarshal(rec)
	frame := make([]byte, headerLen, headerLen+len(body))
	binary.BigEndian.PutUint32(frame[0:4], uint32(len(body)))
	binary.BigEndian.PutUint32(frame[4:8], crc32.Checksum(body, crcTable))
	return append(frame, body...)
}

// rewrite replaces the log by one holding only frame.
func (w *WAL) rewrite(frame []byte, rec *record) error {
	tmp := w.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("wal: compact: %w", err)
	}
	if _, err := f.Write(frame); err != nil {
		f.Close()
		return fmt.Errorf("wal: compact: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("wal: compact: %w", err)
	}
	if err := os.Rename(tmp, w.path); err != nil {
		f.Close()
		return fmt.Errorf("wal: compact: %w", err)
	}
	if d, err := os.Open(filepath.Dir(w.path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	w.f.Close()
	w.f, w.size, w.last = f, int64(len(frame)), rec
	return nil
}

// Close closes the file.
func (w *WAL) Close() error { return w.f.Close() }

// Signer is the signing guard: it signs what the Machine asks for, only
// after the WAL holds it durably, and never anything that conflicts with the
// last message signed (as recorded in the WAL, not as the Machine believes).
type Signer struct {
	wal     *WAL
	priv    keys.PrivKey
	chainID string
}

// NewSigner guards priv with w.
func NewSigner(w *WAL, priv keys.PrivKey, chainID string) *Signer {
	return &Signer{wal: w, priv: priv, chainID: chainID}
}

// Sign carries out steps 1 and 2 of the SignAndSend contract: it refuses a
// conflicting message (consensus.ErrDoubleSign), signs a copy of a.Msg, and
// persists a.State with the signed message (fsync). On success the returned
// message may be broadcast and stepped back into the Machine.
func (s *Signer) Sign(a consensus.SignAndSend) (consensus.Message, error) {
	if st, ok := s.wal.State(); ok {
		if err := st.LastSigned.Allows(a.Msg); err != nil {
			return nil, err
		}
	}
	if rec := consensus.RecordOf(a.Msg); a.State.LastSigned != rec {
		return nil, fmt.Errorf("wal: state records %+v but the message is %+v", a.State.LastSigned, rec)
	}
	var msg consensus.Message
	switch m := a.Msg.(type) {
	case *consensus.Proposal:
		c := *m
		msg = &c
	case *consensus.Vote:
		c := *m
		msg = &c
	default:
		return nil, fmt.Errorf("wal: cannot sign %T", a.Msg)
	}
	consensus.Sign(s.priv, s.chainID, msg)
	if prev := s.wal.LastSigned(); prev != nil && consensus.RecordOf(prev) == consensus.RecordOf(msg) {
		// Re-sending after a restart: ed25519 is deterministic, same bytes.
		if !bytes.Equal(consensus.EncodeMessage(prev), consensus.EncodeMessage(msg)) {
			return nil, fmt.Errorf("wal: re-signed message differs from the logged one")
		}
	}
	if err := s.wal.Persist(a.State, msg); err != nil {
		return nil, err
	}
	return msg, nil
}
