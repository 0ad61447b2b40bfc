package jobspec

import (
	"reflect"
	"testing"
)

// FuzzParse: Parse never panics, and whatever it accepts encodes, decodes
// to the same spec and is valid.
func FuzzParse(f *testing.F) {
	f.Add([]byte(goodBatch))
	f.Add([]byte(goodService))
	f.Add([]byte("kind = \"batch\"\n[resources]\ncpu = 1e308\nmemory = \"18446744073709551615TiB\""))
	f.Add([]byte("[[inputs]]\n[[inputs]]\npath = 3"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		b, err := Encode(s)
		if err != nil {
			t.Fatalf("parsed spec does not encode: %v", err)
		}
		d, err := Decode(b)
		if err != nil {
			t.Fatalf("encoding does not decode: %v", err)
		}
		if !reflect.DeepEqual(s, d) {
			t.Fatalf("round trip changed the spec")
		}
	})
}

// FuzzDecode: Decode never panics, and what it accepts re-encodes to the
// same bytes (one spec, one encoding).
func FuzzDecode(f *testing.F) {
	for _, src := range []string{goodBatch, goodService} {
		s, err := Parse([]byte(src))
		if err != nil {
			f.Fatal(err)
		}
		b, _ := Encode(s)
		f.Add(b)
	}
	f.Add([]byte{0xa1, 0x64, 'k', 'i', 'n', 'd', 0x65, 'b', 'a', 't', 'c', 'h'})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Decode(data)
		if err != nil {
			return
		}
		b, err := Encode(s)
		if err != nil || string(b) != string(data) {
			t.Fatalf("accepted input does not re-encode to itself: %v", err)
		}
	})
}
