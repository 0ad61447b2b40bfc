package codec

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"
)

type sample struct {
	_     struct{} `cbor:",toarray"`
	N     uint64
	S     string
	B     []byte
	L     []uint32
	M     map[string]int64
	Inner *sample
}

// allocated reports the bytes allocated by f (TotalAlloc only grows: no
// collection is needed to measure it).
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestLengthPrefixBeyondInput: a header claiming 2^60 elements or bytes
// (or just more than the input holds) is refused before anything is
// allocated for it: the decoder checks that the input is well formed,
// lengths against the bytes that remain, before it decodes.
func TestLengthPrefixBeyondInput(t *testing.T) {
	huge := []byte{0, 0, 0, 0, 0, 0, 0, 0}
	huge[0] = 0x10 // 2^60, big endian
	heads := map[string]byte{"array": 0x9b, "byte string": 0x5b, "text string": 0x7b, "map": 0xbb}
	targets := map[string]func() any{
		"any":      func() any { return new(any) },
		"[]uint64": func() any { return new([]uint64) },
		"[]byte":   func() any { return new([]byte) },
		"string":   func() any { return new(string) },
		"map":      func() any { return new(map[string]int64) },
		"struct":   func() any { return new(sample) },
	}
	for hn, h := range heads {
		for _, lenBytes := range [][]byte{huge, {0, 0, 0, 0, 0, 1, 0, 0}} { // 2^60 and 65536
			in := append([]byte{h}, lenBytes...)
			in = append(in, 1, 2, 3)
			for tn, mk := range targets {
				var err error
				n := allocated(func() { err = Unmarshal(in, mk()) })
				if err == nil {
					t.Fatalf("%s of %x elements into %s: decoded", hn, lenBytes, tn)
				}
				if n > 64<<10 {
					t.Errorf("%s of %x elements into %s: %d bytes allocated to refuse it", hn, lenBytes, tn, n)
				}
			}
		}
	}
	// The same inside a struct field, after valid fields.
	in := MustMarshal(sample{N: 1, S: "x"})
	in = append(in[:len(in)-4], 0x5b)
	in = append(in, huge...)
	if err := Unmarshal(in, new(sample)); err == nil {
		t.Fatal("struct with a 2^60-byte field decoded")
	}
}

func nested(depth int) []byte {
	return append(bytes.Repeat([]byte{0x81}, depth-1), 0x80) // [[[...[]...]]]
}

// TestCaps: nesting beyond MaxNestedLevels, arrays beyond MaxArrayElems
// and maps beyond MaxMapPairs are refused with the decoder's error naming
// the limit; at the cap they decode.
func TestCaps(t *testing.T) {
	var v any
	if err := Unmarshal(nested(MaxNestedLevels), &v); err != nil {
		t.Fatalf("depth %d: %v", MaxNestedLevels, err)
	}
	if err := Unmarshal(nested(MaxNestedLevels+1), &v); err == nil || !strings.Contains(err.Error(), "exceeded max nested level") {
		t.Fatalf("depth %d: %v", MaxNestedLevels+1, err)
	}
	arr := func(n int) []byte {
		b := []byte{0x9a, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
		return append(b, make([]byte, n)...) // n zeros
	}
	var l []uint8
	if err := UnmarshalTrusted(arr(MaxArrayElems), &l); err != nil || len(l) != MaxArrayElems {
		t.Fatalf("%d elements: %v", MaxArrayElems, err)
	}
	if err := Unmarshal(arr(MaxArrayElems+1), &l); err == nil || !strings.Contains(err.Error(), "exceeded max number of elements") {
		t.Fatalf("%d elements: %v", MaxArrayElems+1, err)
	}
	m := func(n int) []byte {
		b := []byte{0xba, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
		for i := range n {
			b = append(b, 0x1a, byte(i>>24), byte(i>>16), byte(i>>8), byte(i), 0) // uint32 key -> 0
		}
		return b
	}
	var mp map[uint32]uint8
	if err := UnmarshalTrusted(m(MaxMapPairs), &mp); err != nil || len(mp) != MaxMapPairs {
		t.Fatalf("%d pairs: %v", MaxMapPairs, err)
	}
	if err := Unmarshal(m(MaxMapPairs+1), &mp); err == nil || !strings.Contains(err.Error(), "exceeded max number of key-value pairs") {
		t.Fatalf("%d pairs: %v", MaxMapPairs+1, err)
	}
}

// TestRefusesNonCanonical: the forms Unmarshal promises to refuse.
func TestRefusesNonCanonical(t *testing.T) {
	for name, in := range map[string][]byte{
		"long integer":      {0x18, 0x01},
		"trailing bytes":    {0x01, 0x01},
		"indefinite array":  {0x9f, 0x01, 0xff},
		"unsorted map":      {0xa2, 0x02, 0x00, 0x01, 0x00},
		"duplicate map key": {0xa2, 0x01, 0x00, 0x01, 0x00},
		"tag":               {0xc0, 0x60},
	} {
		var v any
		if err := Unmarshal(in, &v); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	var v any
	if err := Unmarshal([]byte{0x18, 0x01}, &v); !errors.Is(err, ErrNotCanonical) {
		t.Errorf("long integer: %v, want ErrNotCanonical", err)
	}
}

// FuzzUnmarshal: Unmarshal of any bytes, into a generic value or a
// struct, never panics, never allocates far beyond the input, and what it
// accepts re-encodes to exactly the input (one value, one encoding).
func FuzzUnmarshal(f *testing.F) {
	f.Add(MustMarshal(sample{N: 7, S: "seven", B: []byte{7}, L: []uint32{1, 2}, M: map[string]int64{"a": -1, "bb": 2}, Inner: &sample{N: 1}}))
	f.Add(MustMarshal(sample{}))
	f.Add(MustMarshal(map[string]any{"x": []any{uint64(1), "y", []byte{2}, true, nil}}))
	f.Add(nested(MaxNestedLevels + 1))
	f.Add([]byte{0x9b, 0x10, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0xa2, 0x01, 0x00, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		var g any
		n := allocated(func() {
			if err := Unmarshal(data, &g); err == nil {
				if again := MustMarshal(g); !bytes.Equal(again, data) {
					t.Fatalf("accepted %x, re-encodes as %x", data, again)
				}
			}
		})
		if n > uint64(64*len(data))+1<<20 {
			t.Fatalf("%d bytes allocated for %d bytes of input", n, len(data))
		}
		var s sample
		if err := Unmarshal(data, &s); err == nil {
			if again := MustMarshal(&s); !bytes.Equal(again, data) {
				t.Fatalf("accepted %x as a struct, re-encodes as %x", data, again)
			}
		}
	})
}
