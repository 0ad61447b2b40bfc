package forward

import (
	"bytes"
	"testing"
)

// FuzzHandshake feeds arbitrary bytes to the server's frame and hello
// decoding: it must return an error or a hello, never panic or read
// past the frame.
func FuzzHandshake(f *testing.F) {
	f.Add([]byte{0x80, 0x80, 0x40})
	f.Add(append([]byte{5}, "hello"...))
	f.Add(append([]byte{byte(len(encodeHello(Hello{Lease: 1, Purpose: PurposeForward, PubKey: make([]byte, 32), Sig: make([]byte, 64)})))},
		encodeHello(Hello{Lease: 1, Purpose: PurposeForward, PubKey: make([]byte, 32), Sig: make([]byte, 64)})...))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		body, err := readFrame(r, MaxHello)
		if err != nil {
			return
		}
		if len(body) > MaxHello {
			t.Fatalf("frame of %d bytes accepted", len(body))
		}
		h, pub, err := decodeHello(body)
		if err == nil && (len(pub) != 32 || h.Purpose < PurposeForward) {
			t.Fatalf("accepted hello %+v", h)
		}
	})
}
