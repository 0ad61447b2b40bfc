// Package quorum holds the exact integer thresholds of the consensus engine.
// It is pure (no state, no I/O) and safe for concurrent use.
//
// Powers are uint64 and the products are computed in 128 bits, so the
// functions are exact for every input: no overflow bound is needed here. The
// engine itself bounds a validator set's total power (see
// consensus.MaxTotalPower) so that sums of powers fit in an int64.
package quorum

import "math/bits"

// mulCmp compares a*x with b*y exactly (128-bit products) and returns -1, 0 or +1.
func mulCmp(a, x, b, y uint64) int {
	hi1, lo1 := bits.Mul64(a, x)
	hi2, lo2 := bits.Mul64(b, y)
	switch {
	case hi1 < hi2:
		return -1
	case hi1 > hi2:
		return 1
	case lo1 < lo2:
		return -1
	case lo1 > lo2:
		return 1
	}
	return 0
}

// SuperMajority reports whether power is more than two thirds of total:
// 3*power > 2*total. This is the quorum of the algorithm (2f+1 of 3f+1).
func SuperMajority(power, total uint64) bool {
	return mulCmp(3, power, 2, total) > 0
}

// AtLeastTwoThirds reports 3*power >= 2*total. It is NOT a safe quorum; it
// exists so that tests can plant the off-by-one bug and watch the simulator
// catch it.
func AtLeastTwoThirds(power, total uint64) bool {
	return mulCmp(3, power, 2, total) >= 0
}

// MoreThanOneThird reports whether power is more than one third of total:
// 3*power > total (f+1 of 3f+1). Such a set contains at least one honest
// validator when the Byzantine power is below one third.
func MoreThanOneThird(power, total uint64) bool {
	return mulCmp(3, power, 1, total) > 0
}
