package spotcheck

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/inferd/inferd/compute/challenge"
	"github.com/inferd/inferd/compute/matmul"
	"github.com/inferd/inferd/compute/merkle"
)

var trials = flag.Int("spotcheck.trials", 2000, "cheating-provider trials in TestCheaterCaughtAtPredictedRate")

func seedOf(parts ...any) [32]byte { return sha256.Sum256(fmt.Append(nil, parts...)) }

func mustChallenge(t testing.TB, seed [32]byte, n int) challenge.Challenge {
	t.Helper()
	ch, err := challenge.New(seed, n)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func TestSelect(t *testing.T) {
	for _, n := range []int{1, 2, 3, 10, 100, 1000, 8192} {
		for _, k := range []int{1, 2, min(16, n), n} {
			if k > n || k > 256 {
				continue
			}
			s := seedOf("select", n, k)
			idx, err := Select(s, n, k)
			if err != nil {
				t.Fatal(err)
			}
			if len(idx) != k {
				t.Fatalf("n=%d k=%d: %d indices", n, k, len(idx))
			}
			seen := map[int]bool{}
			for _, i := range idx {
				if i < 0 || i >= n || seen[i] {
					t.Fatalf("n=%d k=%d: index %d out of range or repeated in %v", n, k, i, idx)
				}
				seen[i] = true
			}
			again, _ := Select(s, n, k)
			if !slices.Equal(idx, again) {
				t.Fatal("Select is not deterministic")
			}
			if k > 1 {
				shorter, _ := Select(s, n, k-1)
				if !slices.Equal(shorter, idx[:k-1]) {
					t.Fatalf("n=%d: selection for k-1 is not a prefix of k", n)
				}
			}
		}
	}
	for _, c := range [][2]int{{10, 0}, {10, 11}, {0, 1}, {5, -1}} {
		if _, err := Select(seedOf("x"), c[0], c[1]); !errors.Is(err, ErrBadK) {
			t.Fatalf("Select(n=%d,k=%d): %v", c[0], c[1], err)
		}
	}
	// Pinned: the selection is part of the protocol.
	idx, _ := Select(seedOf("inferd golden check"), 8192, 16)
	if got := fmt.Sprint(idx); got != goldenSelect {
		t.Fatalf("Select golden = %s, want %s", got, goldenSelect)
	}
}

const goldenSelect = "[1448 5628 4822 7938 1737 5488 1400 623 5550 5848 7951 4991 5732 8176 4404 3604]"

// TestSelectUniform: the first index over many seeds falls in each of 7
// buckets (7 does not divide 2^64, so rejection sampling matters) at the
// expected rate within 5 binomial sigmas.
func TestSelectUniform(t *testing.T) {
	const n, draws = 7, 14000
	var counts [n]int
	for s := range draws {
		idx, _ := Select(seedOf("uniform", s), n, 1)
		counts[idx[0]]++
	}
	p := 1.0 / n
	mean, sigma := draws*p, math.Sqrt(draws*p*(1-p))
	for i, c := range counts {
		if math.Abs(float64(c)-mean) > 5*sigma {
			t.Fatalf("bucket %d: %d draws, expected %.0f +- %.0f", i, c, mean, 5*sigma)
		}
	}
}

func TestHonestProviderPasses(t *testing.T) {
	for s := range 24 {
		n := []int{1, 5, 64, 100, 130, 256}[s%6]
		k := min(DefaultK, n)
		ch := mustChallenge(t, seedOf("honest", s), n)
		c, tree := Solve(ch, matmul.CPU{})
		check := seedOf("later block", s)
		idx, err := Select(check, n, k)
		if err != nil {
			t.Fatal(err)
		}
		rows, proofs := Answer(c, n, tree, idx)
		if err := Verify(ch, check, k, tree.Root(), rows, proofs); err != nil {
			t.Fatalf("seed %d n=%d: honest provider rejected: %v", s, n, err)
		}
	}
}

// TestBackendsCommitToSameRoot: the commitment depends only on the
// challenge, not on the backend.
func TestBackendsCommitToSameRoot(t *testing.T) {
	for _, n := range []int{3, 70, 129} {
		ch := mustChallenge(t, seedOf("backends", n), n)
		_, t1 := Solve(ch, matmul.Naive{})
		_, t2 := Solve(ch, matmul.CPU{})
		if t1.Root() != t2.Root() {
			t.Fatalf("n=%d: naive and cpu roots differ", n)
		}
	}
}

// TestGoldenRoot pins challenge generation, the product and the Merkle
// format together. The same root was computed by an independent pure-Python
// (hashlib, integer arithmetic) implementation of docs/compute.md, as was
// goldenSelect.
func TestGoldenRoot(t *testing.T) {
	ch := mustChallenge(t, seedOf("inferd golden challenge"), 256)
	_, tree := Solve(ch, matmul.CPU{})
	root := tree.Root()
	if got := fmt.Sprintf("%x", root); got != goldenRoot {
		t.Fatalf("root = %s, want %s", got, goldenRoot)
	}
}

const goldenRoot = "74fea078a4dac24a736feabe5049f4310a0ed49e03a1b12f2de195ac3701a22d"

// answer is one honest answer to a check, to be tampered with.
type answer struct {
	ch     challenge.Challenge
	check  [32]byte
	k      int
	idx    []int
	c      []int32
	tree   *merkle.Tree
	rows   map[int][]int32
	proofs map[int]merkle.Proof
}

func honest(t *testing.T, n, k int) answer {
	ch := mustChallenge(t, seedOf("tamper", n), n)
	c, tree := Solve(ch, matmul.CPU{})
	check := seedOf("tamper check", n)
	idx, err := Select(check, n, k)
	if err != nil {
		t.Fatal(err)
	}
	rows, proofs := Answer(c, n, tree, idx)
	return answer{ch, check, k, idx, c, tree, rows, proofs}
}

func (a answer) verify(root merkle.Hash) error {
	return Verify(a.ch, a.check, a.k, root, a.rows, a.proofs)
}

func notSelected(a answer) int {
	for i := range a.ch.N() {
		if !slices.Contains(a.idx, i) {
			return i
		}
	}
	panic("all rows selected")
}

func TestRejections(t *testing.T) {
	const n, k = 50, 8
	cases := []struct {
		name   string
		tamper func(a *answer) merkle.Hash // returns the root to verify against
		want   error
	}{
		{"row dropped", func(a *answer) merkle.Hash {
			delete(a.rows, a.idx[3])
			return a.tree.Root()
		}, ErrWrongCount},
		{"proof dropped", func(a *answer) merkle.Hash {
			delete(a.proofs, a.idx[0])
			return a.tree.Root()
		}, ErrWrongCount},
		{"extra row", func(a *answer) merkle.Hash {
			j := notSelected(*a)
			a.rows[j] = slices.Clone(a.c[j*n : (j+1)*n])
			a.proofs[j] = a.tree.Prove(j)
			return a.tree.Root()
		}, ErrWrongCount},
		{"unselected row instead of a selected one", func(a *answer) merkle.Hash {
			j := notSelected(*a)
			delete(a.rows, a.idx[2])
			delete(a.proofs, a.idx[2])
			a.rows[j] = slices.Clone(a.c[j*n : (j+1)*n])
			a.proofs[j] = a.tree.Prove(j)
			return a.tree.Root()
		}, ErrMissingRow},
		{"short row", func(a *answer) merkle.Hash {
			a.rows[a.idx[1]] = a.rows[a.idx[1]][:n-1]
			return a.tree.Root()
		}, ErrWrongRow},
		{"row value changed, proof kept", func(a *answer) merkle.Hash {
			a.rows[a.idx[1]][7]++
			return a.tree.Root()
		}, ErrBadProof},
		{"proof hash flipped", func(a *answer) merkle.Hash {
			p := slices.Clone(a.proofs[a.idx[4]])
			p[len(p)-1][5] ^= 0x10
			a.proofs[a.idx[4]] = p
			return a.tree.Root()
		}, ErrBadProof},
		{"proof of another row", func(a *answer) merkle.Hash {
			a.proofs[a.idx[0]] = a.proofs[a.idx[1]]
			return a.tree.Root()
		}, ErrBadProof},
		{"row moved to another index", func(a *answer) merkle.Hash {
			// Row idx[1]'s values and proof answered under idx[0].
			a.rows[a.idx[0]] = a.rows[a.idx[1]]
			a.proofs[a.idx[0]] = a.proofs[a.idx[1]]
			return a.tree.Root()
		}, ErrBadProof},
		{"wrong root", func(a *answer) merkle.Hash {
			r := a.tree.Root()
			r[0] ^= 1
			return r
		}, ErrBadProof},
		{"wrong row value, recommitted", func(a *answer) merkle.Hash {
			// The cheater commits to its wrong row: the proof is valid,
			// only the recomputation catches it.
			i := a.idx[5]
			a.c[i*n+3] ^= 1
			a.tree = merkle.FromRows(a.c, n, n)
			a.rows, a.proofs = Answer(a.c, n, a.tree, a.idx)
			return a.tree.Root()
		}, ErrWrongRow},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := honest(t, n, k)
			root := tc.tamper(&a)
			if err := a.verify(root); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	a := honest(t, n, k)
	if err := Verify(a.ch, a.check, n+1, a.tree.Root(), a.rows, a.proofs); !errors.Is(err, ErrBadK) {
		t.Fatalf("k > n: %v", err)
	}
}

// plantedVerify is a broken verifier, kept only in this test: it does
// everything Verify does except recomputing the rows from the challenge, so
// it trusts any row the provider committed to.
func plantedVerify(n int, check [32]byte, k int, root merkle.Hash, rows map[int][]int32, proofs map[int]merkle.Proof) error {
	idx, err := Select(check, n, k)
	if err != nil {
		return err
	}
	if len(rows) != k || len(proofs) != k {
		return ErrWrongCount
	}
	for _, i := range idx {
		row, okr := rows[i]
		proof, okp := proofs[i]
		if !okr || !okp {
			return ErrMissingRow
		}
		if err := merkle.Verify(root, n, i, merkle.LeafHash(i, row), proof); err != nil {
			return ErrBadProof
		}
	}
	return nil
}

// passProbability is the exact probability that k distinct rows drawn
// uniformly from n all avoid the bad ones: C(good, k) / C(n, k).
func passProbability(n, good, k int) float64 {
	p := 1.0
	for t := range k {
		p *= float64(good-t) / float64(n-t)
	}
	return p
}

// TestCheaterCaughtAtPredictedRate runs a provider that computes only 90% of
// the rows of C and fills the other 10% with garbage, but commits honestly
// to what it has (so every Merkle proof is valid). Over many trials, each
// with a fresh set of skipped rows and a fresh check seed, the real verifier
// must catch it at the predicted rate 1 - C(0.9n, k)/C(n, k) (which is
// >= 1 - 0.9^k) within 4 binomial standard deviations, and the planted
// verifier, which skips recomputation, must catch nothing. Set
// -spotcheck.trials for a longer run.
func TestCheaterCaughtAtPredictedRate(t *testing.T) {
	const n, k, skipped = 250, DefaultK, 25 // f = 225/250 = 0.9 exactly
	T := *trials
	if testing.Short() {
		T = min(T, 150)
	}
	start := time.Now()
	// A few challenges, solved once each; trials cycle over them.
	type solved struct {
		ch     challenge.Challenge
		c      []int32
		leaves []merkle.Hash
	}
	var chs []solved
	for s := range 3 {
		ch := mustChallenge(t, seedOf("cheat challenge", s), n)
		c, _ := Solve(ch, matmul.CPU{})
		leaves := make([]merkle.Hash, n)
		for i := range n {
			leaves[i] = merkle.LeafHash(i, c[i*n:(i+1)*n])
		}
		chs = append(chs, solved{ch, c, leaves})
	}
	rng := rand.New(rand.NewPCG(2026, 1125)) // the cheater's choices
	caught, plantedCaught, caughtOnlyByReal := 0, 0, 0
	for trial := range T {
		s := chs[trial%len(chs)]
		// The cheater computes 90% of the rows; the rest is garbage.
		c := slices.Clone(s.c)
		leaves := slices.Clone(s.leaves)
		for _, i := range rng.Perm(n)[:skipped] {
			row := c[i*n : (i+1)*n]
			for j := range row {
				row[j] = int32(rng.Uint32())
			}
			leaves[i] = merkle.LeafHash(i, row)
		}
		tree := merkle.FromLeaves(leaves)
		var check [32]byte
		binary.BigEndian.PutUint64(check[:], uint64(trial))
		check = sha256.Sum256(check[:])
		idx, _ := Select(check, n, k)
		rows, proofs := Answer(c, n, tree, idx)

		errReal := Verify(s.ch, check, k, tree.Root(), rows, proofs)
		errPlanted := plantedVerify(n, check, k, tree.Root(), rows, proofs)
		if errReal != nil {
			if !errors.Is(errReal, ErrWrongRow) {
				t.Fatalf("trial %d: cheater rejected for the wrong reason: %v", trial, errReal)
			}
			caught++
		}
		if errPlanted != nil {
			plantedCaught++
		} else if errReal != nil {
			caughtOnlyByReal++
		}
	}
	pass := passProbability(n, n-skipped, k)
	want := 1 - pass
	formula := 1 - math.Pow(0.9, k)
	got := float64(caught) / float64(T)
	sigma := math.Sqrt(want * (1 - want) / float64(T))
	t.Logf("n=%d k=%d f=0.9 trials=%d: caught %d (%.4f); exact 1-C(225,16)/C(250,16) = %.4f, 1-0.9^16 = %.4f, 4 sigma = %.4f; %v",
		n, k, T, caught, got, want, formula, 4*sigma, time.Since(start).Round(time.Millisecond))
	if math.Abs(got-want) > 4*sigma {
		t.Fatalf("catch rate %.4f outside %.4f +- %.4f", got, want, 4*sigma)
	}
	if want < formula {
		t.Fatalf("exact catch probability %.4f below the 1-f^k bound %.4f", want, formula)
	}
	if plantedCaught != 0 || caughtOnlyByReal != caught {
		t.Fatalf("planted verifier caught %d (want 0); real verifier caught %d of which %d the planted one missed",
			plantedCaught, caught, caughtOnlyByReal)
	}
	if caught == 0 {
		t.Fatal("cheater never caught")
	}
}

func BenchmarkSolveAndVerify(b *testing.B) {
	for _, n := range []int{512, 1024, 2048} {
		ch := mustChallenge(b, seedOf("bench", n), n)
		c, tree := Solve(ch, matmul.CPU{})
		check := seedOf("bench check", n)
		idx, _ := Select(check, n, DefaultK)
		rows, proofs := Answer(c, n, tree, idx)
		b.Run(fmt.Sprintf("verify/n=%d/k=%d", n, DefaultK), func(b *testing.B) {
			for b.Loop() {
				if err := Verify(ch, check, DefaultK, tree.Root(), rows, proofs); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("genB/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				ch.B()
			}
		})
		b.Run(fmt.Sprintf("solve/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				Solve(ch, matmul.CPU{})
			}
		})
	}
}

// BenchmarkRecompute measures the verifier's dominant cost alone (generating
// B and the k selected rows of A, then k rows of C) at sizes whose full
// product is too slow to solve in a benchmark run.
func BenchmarkRecompute(b *testing.B) {
	for _, n := range []int{2048, 4096, 8192} {
		ch := mustChallenge(b, seedOf("bench", n), n)
		idx, _ := Select(seedOf("bench check", n), n, DefaultK)
		b.Run(fmt.Sprintf("n=%d/k=%d", n, DefaultK), func(b *testing.B) {
			for b.Loop() {
				Rows(ch, idx)
			}
		})
	}
}

// TestRowsMatchesProduct checks the verifier's column-by-column
// recomputation against the naive full product, for row counts that are
// not multiples of the three SWAR lanes and sizes that are not multiples of
// the 63-step flush.
func TestRowsMatchesProduct(t *testing.T) {
	for _, n := range []int{1, 2, 62, 63, 64, 127, 190} {
		ch := mustChallenge(t, seedOf("rows", n), n)
		c := make([]int32, n*n)
		matmul.Naive{}.MatMul(ch.A(), n, ch.B(), n, c)
		for _, k := range []int{1, 2, 3, 4, 7, 16} {
			if k > n {
				continue
			}
			idx, _ := Select(seedOf("rows idx", n, k), n, k)
			got := Rows(ch, idx)
			for r, i := range idx {
				if !slices.Equal(got[r*n:(r+1)*n], c[i*n:(i+1)*n]) {
					t.Fatalf("n=%d k=%d: row %d differs", n, k, i)
				}
			}
		}
	}
	if got := Rows(mustChallenge(t, seedOf("x"), 5), nil); len(got) != 0 {
		t.Fatal("Rows(nil) not empty")
	}
}
