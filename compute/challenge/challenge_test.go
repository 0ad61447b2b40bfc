package challenge

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"testing"
)

func seedOf(s string) [32]byte { return sha256.Sum256([]byte(s)) }

func digest(m []int8) string {
	b := make([]byte, len(m))
	for i, v := range m {
		b[i] = byte(v)
	}
	d := sha256.Sum256(b)
	return hex.EncodeToString(d[:])
}

// TestGolden pins the generator: any change to the PRNG, the labels or the
// layout changes these digests and breaks every deployed challenge. The two
// digests were also produced by an independent 15-line Python (hashlib)
// implementation of the spec in docs/compute.md.
func TestGolden(t *testing.T) {
	ch, err := New(seedOf("inferd golden challenge"), 256)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := digest(ch.A()), goldenA; got != want {
		t.Errorf("sha256(A) = %s, want %s", got, want)
	}
	if got, want := digest(ch.B()), goldenB; got != want {
		t.Errorf("sha256(B) = %s, want %s", got, want)
	}
	// The first bytes, readable without a hash: the stream spec by hand.
	seed := ch.Seed()
	key := sha256.Sum256(append(append([]byte("inferd/compute/v1/A"), seed[:]...), 0, 0, 0, 0, 0, 0, 1, 0))
	block := sha256.Sum256(append(key[:], 0, 0, 0, 0, 0, 0, 0, 0))
	row := make([]int8, 256)
	ch.RowA(0, row)
	for i := range 32 {
		if row[i] != int8(block[i]) {
			t.Fatalf("A[0][%d] = %d, want %d from the spec", i, row[i], int8(block[i]))
		}
	}
}

const (
	goldenA = "ffa3722a2d09ae93af8b44db5374c48f2e1c120fb82a1478c9bb2a7cfe0d5a0f"
	goldenB = "c10a4cc139fb25127611632a208c20d9f5f940519d7cc68a5dc2e8b973456d63"
)

// TestIndependentRowsAndColumns checks that every row of A and every column
// of B can be generated alone and agrees with the whole matrices, for sizes
// that are not multiples of the 32-byte block.
func TestIndependentRowsAndColumns(t *testing.T) {
	for _, n := range []int{1, 31, 32, 33, 100} {
		ch, err := New(seedOf("rows"), n)
		if err != nil {
			t.Fatal(err)
		}
		a, b := ch.A(), ch.B()
		buf := make([]int8, n)
		for i := range n {
			ch.RowA(i, buf)
			if !slices.Equal(buf, a[i*n:(i+1)*n]) {
				t.Fatalf("n=%d: row %d of A differs", n, i)
			}
			ch.ColB(i, buf)
			for p := range n {
				if buf[p] != b[p*n+i] {
					t.Fatalf("n=%d: column %d of B differs at %d", n, i, p)
				}
			}
		}
		if got := ch.RowsA([]int{n - 1, 0}); !slices.Equal(got[:n], a[(n-1)*n:]) || !slices.Equal(got[n:], a[:n]) {
			t.Fatalf("n=%d: RowsA differs", n)
		}
	}
}

func TestSeedsAndSizesSeparate(t *testing.T) {
	c1, _ := New(seedOf("x"), 64)
	c2, _ := New(seedOf("y"), 64)
	c3, _ := New(seedOf("x"), 65)
	if slices.Equal(c1.A(), c2.A()) || slices.Equal(c1.A()[:64], c3.A()[:64]) {
		t.Fatal("different seeds or sizes gave the same rows")
	}
	if slices.Equal(c1.A(), c1.B()) {
		t.Fatal("A and B are the same stream")
	}
	bh := seedOf("block")
	if ProviderSeed(bh, []byte("alice")) == ProviderSeed(bh, []byte("bob")) {
		t.Fatal("providers share a seed")
	}
}

func TestTiersAndSizes(t *testing.T) {
	want := []int{256, 512, 1024, 2048, 4096, 8192}
	for i, w := range want {
		if n, err := TierN(i); err != nil || n != w {
			t.Fatalf("TierN(%d) = %d, %v", i, n, err)
		}
	}
	for _, bad := range []int{-1, NumTiers} {
		if _, err := TierN(bad); !errors.Is(err, ErrBadTier) {
			t.Fatalf("TierN(%d): %v", bad, err)
		}
	}
	for _, bad := range []int{0, -5, MaxN + 1} {
		if _, err := New(seedOf("s"), bad); !errors.Is(err, ErrBadSize) {
			t.Fatalf("New(n=%d): %v", bad, err)
		}
	}
	if Ops(1024) != 2*1024*1024*1024 {
		t.Fatal("Ops")
	}
}
