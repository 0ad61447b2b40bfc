package keys

import (
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/oasisprotocol/curve25519-voi/curve"
	"github.com/oasisprotocol/curve25519-voi/curve/scalar"
)

// sigCase is one (key, message, signature) whose verdict crypto/ed25519
// and Verify/VerifyAll must agree on.
type sigCase struct {
	name          string
	pub, msg, sig []byte
}

func mustScalar(t testing.TB, b []byte) *scalar.Scalar {
	s, err := scalar.NewFromBytesModOrderWide(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func enc(p *curve.EdwardsPoint) []byte {
	var c curve.CompressedEdwardsY
	c.SetEdwardsPoint(p)
	return append([]byte(nil), c[:]...)
}

func hram(t testing.TB, r, a, m []byte) *scalar.Scalar {
	h := sha512.New()
	h.Write(r)
	h.Write(a)
	h.Write(m)
	return mustScalar(t, h.Sum(nil))
}

// edgeCases builds signatures that separate the ed25519 variants: small
// order keys and R, torsion components (valid under the cofactored
// equation only, or only for some hashes), non-canonical encodings of
// points and of S, and plain corruptions of honest signatures.
func edgeCases(t testing.TB, rng *rand.Rand) []sigCase {
	var out []sigCase
	seed := func() []byte {
		b := make([]byte, 64)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	msg := []byte("inferd edge case")
	// Honest signatures and corruptions of them.
	for i := 0; i < 20; i++ {
		priv := ed25519.NewKeyFromSeed(seed()[:32])
		pub := priv.Public().(ed25519.PublicKey)
		sig := ed25519.Sign(priv, msg)
		out = append(out, sigCase{"honest", pub, msg, sig})
		bad := append([]byte(nil), sig...)
		bad[rng.IntN(64)] ^= byte(1 << rng.UintN(8))
		out = append(out, sigCase{"flipped bit", pub, msg, bad})
		// S + L: same point, non-canonical scalar (crypto/ed25519 refuses).
		var s, sl scalar.Scalar
		if _, err := s.SetBytesModOrder(sig[32:]); err != nil {
			t.Fatal(err)
		}
		sl.Set(&s)
		b := sig[32:]
		var carry uint16
		lBytes := [32]byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 31: 0x10}
		nonCanon := append([]byte(nil), sig...)
		for j := 0; j < 32; j++ {
			v := uint16(b[j]) + uint16(lBytes[j]) + carry
			nonCanon[32+j], carry = byte(v), v>>8
		}
		out = append(out, sigCase{"S+L", pub, msg, nonCanon})
	}
	// Non-canonical point encodings: y = p+1 (the identity's y) with and
	// without the sign bit, and y = p (y = 0).
	pPlus1 := make([]byte, 32)
	pPlus1[0] = 0xee
	for i := 1; i < 31; i++ {
		pPlus1[i] = 0xff
	}
	pPlus1[31] = 0x7f
	pPlus1Neg := append([]byte(nil), pPlus1...)
	pPlus1Neg[31] |= 0x80
	p0 := append([]byte(nil), pPlus1...)
	p0[0] = 0xed
	var ident curve.EdwardsPoint
	ident.Identity()
	identEnc := enc(&ident)
	zeroS := make([]byte, 32)
	for _, a := range [][]byte{pPlus1, pPlus1Neg, p0, identEnc} {
		for _, r := range [][]byte{pPlus1, pPlus1Neg, p0, identEnc} {
			out = append(out, sigCase{"non-canonical or identity A and R, S=0", a, msg, append(append([]byte(nil), r...), zeroS...)})
		}
	}
	// Small-order keys and R from the eight-torsion subgroup, S = 0 and a
	// random S.
	for _, ta := range curve.EIGHT_TORSION {
		for _, tr := range curve.EIGHT_TORSION {
			s := seed()[:32]
			s[31] &= 0x0f
			out = append(out, sigCase{"small-order A and R, S=0", enc(ta), msg, append(enc(tr), zeroS...)})
			out = append(out, sigCase{"small-order A and R, random S", enc(ta), msg, append(enc(tr), s...)})
		}
	}
	// Torsion components on honest keys: R = rB + T (valid only under the
	// cofactored equation) and A = aB + T (valid when k kills T).
	for i := 0; i < 64; i++ {
		a := mustScalar(t, seed())
		r := mustScalar(t, seed())
		T := curve.EIGHT_TORSION[1+rng.IntN(7)]
		var A, R, AT, RT curve.EdwardsPoint
		A.MulBasepoint(curve.ED25519_BASEPOINT_TABLE, a)
		R.MulBasepoint(curve.ED25519_BASEPOINT_TABLE, r)
		RT.Add(&R, T)
		AT.Add(&A, T)
		for _, c := range []struct {
			name string
			A, R *curve.EdwardsPoint
		}{{"R with torsion", &A, &RT}, {"A with torsion", &AT, &R}, {"A and R with torsion", &AT, &RT}} {
			ae, re := enc(c.A), enc(c.R)
			k := hram(t, re, ae, msg)
			var s scalar.Scalar
			s.Mul(k, a)
			s.Add(&s, r)
			sb := make([]byte, 32)
			if err := s.ToBytes(sb); err != nil {
				t.Fatal(err)
			}
			out = append(out, sigCase{c.name, ae, msg, append(re, sb...)})
		}
	}
	// Wrong lengths.
	priv := ed25519.NewKeyFromSeed(seed()[:32])
	sig := ed25519.Sign(priv, msg)
	pub := priv.Public().(ed25519.PublicKey)
	out = append(out, sigCase{"short key", pub[:31], msg, sig}, sigCase{"short sig", pub, msg, sig[:63]},
		sigCase{"long sig", pub, msg, append(sig, 0)}, sigCase{"nil", nil, msg, nil})
	// Random garbage.
	for i := 0; i < 64; i++ {
		g := seed()
		out = append(out, sigCase{"random bytes", g[:32], msg, append(g[32:], seed()[:32]...)})
	}
	return out
}

// stdVerify is crypto/ed25519 with the length checks Verify makes (the
// standard library panics on a key of the wrong size).
func stdVerify(pub, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	return ed25519.Verify(pub, msg, sig)
}

func TestVerifyMatchesStdlib(t *testing.T) {
	cases := edgeCases(t, rand.New(rand.NewPCG(1, 2)))
	checks := make([]SigCheck, len(cases))
	var accepted, rejected int
	kinds := map[string][2]int{}
	for i, c := range cases {
		checks[i] = SigCheck{c.pub, c.msg, c.sig}
		want := stdVerify(c.pub, c.msg, c.sig)
		if got := verifyRaw(c.pub, c.msg, c.sig); got != want {
			t.Errorf("case %d (%s): voi says %v, crypto/ed25519 says %v (pub %x sig %x)", i, c.name, got, want, c.pub, c.sig)
		}
		k := kinds[c.name]
		if want {
			accepted++
			k[0]++
		} else {
			rejected++
			k[1]++
		}
		kinds[c.name] = k
	}
	all := VerifyAll(checks)
	for i, c := range cases {
		if want := stdVerify(c.pub, c.msg, c.sig); all[i] != want {
			t.Errorf("VerifyAll case %d (%s): %v, crypto/ed25519 %v", i, c.name, all[i], want)
		}
	}
	// The cases must exercise both verdicts, including for the torsion
	// families (otherwise the test proves nothing about them).
	for _, name := range []string{"honest", "A with torsion", "small-order A and R, S=0", "non-canonical or identity A and R, S=0"} {
		if k := kinds[name]; k[0] == 0 {
			t.Errorf("no accepted case in family %q: %v", name, k)
		}
	}
	for _, name := range []string{"R with torsion", "A with torsion", "S+L", "flipped bit"} {
		if k := kinds[name]; k[1] == 0 {
			t.Errorf("no rejected case in family %q: %v", name, k)
		}
	}
	t.Logf("%d cases: %d accepted, %d rejected by both; per family %v", len(cases), accepted, rejected, kinds)
}

// TestVerifyAllFindsTheBadOne: one bad signature among many valid ones is
// reported at its index, and only there.
func TestVerifyAllFindsTheBadOne(t *testing.T) {
	const n = 200
	checks := make([]SigCheck, n)
	for i := range checks {
		var seed [32]byte
		binary.BigEndian.PutUint64(seed[:], uint64(i))
		priv := ed25519.NewKeyFromSeed(seed[:])
		m := []byte{byte(i)}
		checks[i] = SigCheck{priv.Public().(ed25519.PublicKey), m, ed25519.Sign(priv, m)}
	}
	checks[137].Sig = append([]byte(nil), checks[137].Sig...)
	checks[137].Sig[5] ^= 1
	checks[50].Pub = nil
	for i, ok := range VerifyAll(checks) {
		if ok != (i != 137 && i != 50) {
			t.Errorf("index %d: %v", i, ok)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	pub := priv.Public().(ed25519.PublicKey)
	msg := make([]byte, 200)
	sig := ed25519.Sign(priv, msg)
	b.Run("crypto-ed25519", func(b *testing.B) {
		for b.Loop() {
			ed25519.Verify(pub, msg, sig)
		}
	})
	b.Run("voi-stdlib", func(b *testing.B) {
		for b.Loop() {
			verifyRaw(pub, msg, sig)
		}
	})
	checks := make([]SigCheck, 256)
	for i := range checks {
		checks[i] = SigCheck{pub, msg, sig}
	}
	b.Run("VerifyAll-256", func(b *testing.B) {
		for b.Loop() {
			VerifyAll(checks)
		}
		b.ReportMetric(float64(b.N*len(checks))/b.Elapsed().Seconds(), "verifies/s")
	})
}
