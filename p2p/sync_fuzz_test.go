package p2p

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// FuzzReadBlockFrames: a block-sync response is whatever the peer writes.
// Reading it never panics; it yields at most count blocks, each within
// the block limit and all within the response limit, exactly the frames
// the peer sent (re-framing them gives a prefix of the input), or fails
// with ErrBadResponse.
func FuzzReadBlockFrames(f *testing.F) {
	frame := func(b []byte) []byte { return append(binary.AppendUvarint(nil, uint64(len(b))), b...) }
	f.Add(uint8(2), bytes.Join([][]byte{frame([]byte("block one")), frame([]byte("block two"))}, nil))
	f.Add(uint8(1), frame(bytes.Repeat([]byte{7}, 300)))
	f.Add(uint8(3), binary.AppendUvarint(nil, 1<<40))
	f.Add(uint8(1), bytes.Repeat([]byte{0xff}, 11))
	f.Add(uint8(0), []byte{})
	const maxBlock, maxTotal = 1 << 10, 4 << 10
	f.Fuzz(func(t *testing.T, count uint8, data []byte) {
		blocks, err := readBlockFrames(bufio.NewReader(bytes.NewReader(data)), uint64(count), maxBlock, maxTotal)
		if err != nil {
			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("error %v does not wrap ErrBadResponse", err)
			}
			return
		}
		if len(blocks) > int(count) {
			t.Fatalf("%d blocks, asked for %d", len(blocks), count)
		}
		var again []byte
		total := 0
		for _, b := range blocks {
			if len(b) == 0 || len(b) > maxBlock {
				t.Fatalf("block of %d bytes", len(b))
			}
			total += len(b)
			again = append(again, frame(b)...)
		}
		if total > maxTotal {
			t.Fatalf("response of %d bytes", total)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("blocks re-framed are not the input")
		}
	})
}
