package matmul

import (
	"runtime"
	"sync"
)

// CPU is the fast pure-Go backend.
//
// Technique (no assembly, no unsafe):
//
//   - SWAR: three columns of B are packed into one int64 as
//     b0 + b1*2^21 + b2*2^42. Multiplying the word by a scalar a from A and
//     adding to an int64 accumulator performs three multiply-adds at once:
//     the accumulator equals S0 + S1*2^21 + S2*2^42 exactly, as long as each
//     lane sum S stays inside the signed 21-bit range. One product is at most
//     2^14 in magnitude, so 63 products stay below 2^20; after at most 63
//     steps the accumulator is split back into its three lane sums (sign
//     extension of 21-bit fields) and added to int32 partial sums.
//   - Register blocking: the micro-kernel computes a 4 x 6 tile of C
//     (4 rows of A times 2 words = 6 columns of B) with 8 accumulators held
//     in registers.
//   - Packing: A is packed in panels of 4 rows (p-major, so the kernel reads
//     4 consecutive bytes per step), B in panels of 2 words (p-major).
//     Edges are zero-padded, so any n works.
//   - Cache blocking: the k dimension is cut into blocks of kc = 252 steps
//     and the columns into blocks of nc panels, so the B block a kernel
//     streams (kc x nc x 16 bytes = 256 KiB) stays in L2 while every row
//     panel of A passes over it.
//   - Parallelism: row panels are split between Workers goroutines; each
//     writes a disjoint set of rows of C, so the result is independent of
//     scheduling.
type CPU struct {
	// Workers is the number of goroutines; 0 means runtime.GOMAXPROCS(0).
	Workers int
}

// Name implements Backend.
func (CPU) Name() string { return "cpu" }

const (
	mr    = 4 // rows per micro-tile
	nw    = 2 // packed words per micro-tile
	lanes = 3 // columns per packed word
	nr    = nw * lanes
	chunk = 63 // steps between lane flushes: 63 * 2^14 < 2^20
	kc    = 4 * chunk
	ncp   = 64 // B panels per column block
	shift = 21
)

// MatMul implements Backend.
func (cb CPU) MatMul(a []int8, m int, b []int8, n int, c []int32) {
	checkDims(a, m, b, n, c)
	if m == 0 {
		return
	}
	clear(c)
	pa := packA(a, m, n)
	pb := packB(b, n)
	ipanels := (m + mr - 1) / mr
	workers := cb.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, ipanels)
	if workers == 1 {
		compute(pa, pb, m, n, 0, ipanels, c)
		return
	}
	var wg sync.WaitGroup
	per := (ipanels + workers - 1) / workers
	for lo := 0; lo < ipanels; lo += per {
		hi := min(lo+per, ipanels)
		wg.Go(func() { compute(pa, pb, m, n, lo, hi, c) })
	}
	wg.Wait()
}

// packA lays A out in panels of mr rows: panel ip, step p, row r is at
// (ip*n+p)*mr + r. Rows past m are zero.
func packA(a []int8, m, n int) [][mr]int8 {
	ipanels := (m + mr - 1) / mr
	pa := make([][mr]int8, ipanels*n)
	for i := range m {
		ip, r := i/mr, i%mr
		row := a[i*n : (i+1)*n]
		dst := pa[ip*n : (ip+1)*n]
		for p, v := range row {
			dst[p][r] = v
		}
	}
	return pa
}

// packB lays B out in panels of nw words: panel jp, step p, word w is at
// (jp*n+p)*nw + w, and holds columns 3*(jp*nw+w) .. +2 of row p as
// b0 + b1<<21 + b2<<42. Columns past n are zero.
func packB(b []int8, n int) [][nw]int64 {
	words := (n + lanes - 1) / lanes
	jpanels := (words + nw - 1) / nw
	pb := make([][nw]int64, jpanels*n)
	for p := range n {
		row := b[p*n : (p+1)*n]
		for wi := range words {
			j := wi * lanes
			var v int64
			for l := lanes - 1; l >= 0; l-- {
				v <<= shift
				if j+l < n {
					v += int64(row[j+l])
				}
			}
			jp, w := wi/nw, wi%nw
			pb[jp*n+p][w] = v
		}
	}
	return pb
}

// compute adds the contribution of row panels [lo, hi) to c.
func compute(pa [][mr]int8, pb [][nw]int64, m, n, lo, hi int, c []int32) {
	jpanels := len(pb) / n
	var tile [mr * nr]int32
	for jc := 0; jc < jpanels; jc += ncp {
		jcEnd := min(jc+ncp, jpanels)
		for pc := 0; pc < n; pc += kc {
			k := min(kc, n-pc)
			for ip := lo; ip < hi; ip++ {
				aBlock := pa[ip*n+pc : ip*n+pc+k]
				for jp := jc; jp < jcEnd; jp++ {
					bBlock := pb[jp*n+pc : jp*n+pc+k]
					kernel(aBlock, bBlock, &tile)
					store(&tile, c, m, n, ip*mr, jp*nr)
				}
			}
		}
	}
}

// store adds the tile to c at (i0, j0), clipped to m x n.
func store(t *[mr * nr]int32, c []int32, m, n, i0, j0 int) {
	rows := min(mr, m-i0)
	cols := min(nr, n-j0)
	for r := range rows {
		dst := c[(i0+r)*n+j0 : (i0+r)*n+j0+cols]
		src := t[r*nr : r*nr+cols]
		for q := range dst {
			dst[q] += src[q]
		}
	}
}

// split returns the three signed 21-bit lane sums of a SWAR accumulator.
func split(v int64) (s0, s1, s2 int32) {
	l0 := v << (64 - shift) >> (64 - shift)
	v = (v - l0) >> shift
	l1 := v << (64 - shift) >> (64 - shift)
	l2 := (v - l1) >> shift
	return int32(l0), int32(l1), int32(l2)
}

// micro is the inner loop: the SWAR accumulators of a 4 x 2-word tile over
// at most chunk steps. It is a separate function so that its eight
// accumulators, two words and loop state fit in registers.
//
//go:noinline
func micro(a [][mr]int8, b [][nw]int64) (c00, c01, c10, c11, c20, c21, c30, c31 int64) {
	a = a[:len(b)]
	for p := range b {
		w0, w1 := b[p][0], b[p][1]
		x := int64(a[p][0])
		c00 += x * w0
		c01 += x * w1
		x = int64(a[p][1])
		c10 += x * w0
		c11 += x * w1
		x = int64(a[p][2])
		c20 += x * w0
		c21 += x * w1
		x = int64(a[p][3])
		c30 += x * w0
		c31 += x * w1
	}
	return
}

// kernel sets t to the 4 x 6 tile product of an A panel block (k steps of 4
// bytes) and a B panel block (k steps of 2 words).
func kernel(a [][mr]int8, b [][nw]int64, t *[mr * nr]int32) {
	*t = [mr * nr]int32{}
	for len(b) > 0 {
		steps := min(len(b), chunk)
		aa := a[:steps]
		bb := b[:steps]
		a = a[steps:]
		b = b[steps:]
		c00, c01, c10, c11, c20, c21, c30, c31 := micro(aa, bb)
		acc := [mr * nw]int64{c00, c01, c10, c11, c20, c21, c30, c31}
		for r := range mr {
			for w := range nw {
				s0, s1, s2 := split(acc[r*nw+w])
				o := r*nr + w*lanes
				t[o] += s0
				t[o+1] += s1
				t[o+2] += s2
			}
		}
	}
}
