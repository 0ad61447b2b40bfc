package ledger

import (
	"cmp"
	"fmt"
	"math/bits"
)

// Amounts are uint64 counts of uinf (1 INF = 10^6 uinf). Every operation
// that can overflow goes through these helpers.

// UinfPerINF is the number of base units in one INF.
const UinfPerINF = 1_000_000

// Add returns a+b or ErrOverflow.
func Add(a, b uint64) (uint64, error) {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return 0, fmt.Errorf("%w: %d + %d", ErrOverflow, a, b)
	}
	return s, nil
}

// Sub returns a-b or ErrInsufficientFunds when b > a.
func Sub(a, b uint64) (uint64, error) {
	if b > a {
		return 0, fmt.Errorf("%w: have %d, need %d", ErrInsufficientFunds, a, b)
	}
	return a - b, nil
}

// MulDiv returns floor(a*b/c) computed in 128 bits, or ErrOverflow when the
// result does not fit in 64 bits or c is zero.
func MulDiv(a, b, c uint64) (uint64, error) {
	if c == 0 {
		return 0, fmt.Errorf("%w: division by zero", ErrOverflow)
	}
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		return 0, fmt.Errorf("%w: %d * %d / %d", ErrOverflow, a, b, c)
	}
	q, _ := bits.Div64(hi, lo, c)
	return q, nil
}

// MustAdd is Add for sums bounded by the total supply (which fits in
// uint64 by genesis validation); an overflow there is a broken invariant.
func MustAdd(a, b uint64) uint64 {
	s, err := Add(a, b)
	if err != nil {
		panic(err)
	}
	return s
}

// SplitProRata divides total among weights in proportion, rounding each
// share down. It returns the shares and the remainder (total - sum of
// shares, always < len(weights)); the caller says where the remainder goes.
// With a zero total weight every share is zero and all of total remains.
func SplitProRata(total uint64, weights []uint64) (shares []uint64, remainder uint64) {
	shares = make([]uint64, len(weights))
	var sum uint64
	for _, w := range weights {
		sum = MustAdd(sum, w)
	}
	if sum == 0 {
		return shares, total
	}
	remainder = total
	for i, w := range weights {
		s, err := MulDiv(total, w, sum)
		if err != nil {
			panic(err) // w <= sum, so the result is <= total
		}
		shares[i] = s
		remainder -= s
	}
	return shares, remainder
}

// PPM is a fraction in parts per million (0..1_000_000), used for every
// ratio parameter so that no float reaches the state.
type PPM uint64

// PPMOne is 100%.
const PPMOne PPM = 1_000_000

// Of returns floor(amount * p / 10^6).
func (p PPM) Of(amount uint64) uint64 {
	v, err := MulDiv(amount, uint64(p), uint64(PPMOne))
	if err != nil {
		panic(err) // p <= 10^6 is checked by param validation
	}
	return v
}

// Valid reports whether p is within 0..100%.
func (p PPM) Valid() bool { return p <= PPMOne }

func (p PPM) String() string { return fmt.Sprintf("%d.%04d%%", p/10_000, p%10_000) }

// CompareProducts compares a*b with c*d exactly (128-bit products) and
// returns -1, 0 or +1: how ratios are compared without division or floats.
func CompareProducts(a, b, c, d uint64) int {
	xh, xl := bits.Mul64(a, b)
	yh, yl := bits.Mul64(c, d)
	if xh != yh {
		return cmp.Compare(xh, yh)
	}
	return cmp.Compare(xl, yl)
}
