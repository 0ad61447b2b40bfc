package keys

import (
	"bytes"
	"math/rand"
	"testing"
)

func TestAddressRoundTrip(t *testing.T) {
	pub, _, err := Generate(rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	a := AddressOf(pub)
	s := a.String()
	if s[:4] != "inf1" {
		t.Fatalf("address %q does not start with inf1", s)
	}
	b, err := ParseAddress(s)
	if err != nil || b != a {
		t.Fatalf("round trip: %v %v", b, err)
	}
	for _, bad := range []string{"", "inf1", "cosmos1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqnrql8a", s[:len(s)-1] + "x", s + "q"} {
		if _, err := ParseAddress(bad); err == nil {
			t.Errorf("ParseAddress(%q) accepted", bad)
		}
	}
}

func TestSignBoundToChainAndDomain(t *testing.T) {
	pub, priv, _ := Generate(rand.New(rand.NewSource(2)))
	msg := []byte("hello")
	sig := Sign(priv, "chain-a", DomainTx, msg)
	if !Verify(pub, "chain-a", DomainTx, msg, sig) {
		t.Fatal("valid signature rejected")
	}
	if Verify(pub, "chain-b", DomainTx, msg, sig) {
		t.Fatal("signature valid on another chain")
	}
	if Verify(pub, "chain-a", DomainVote, msg, sig) {
		t.Fatal("signature valid in another domain")
	}
	// Length prefixes make ("ab","c") and ("a","bc") differ.
	if bytes.Equal(SignBytes("ab", "c", nil), SignBytes("a", "bc", nil)) {
		t.Fatal("sign bytes are ambiguous")
	}
}
