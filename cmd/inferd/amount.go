package main

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/inferd/inferd/ledger"
)

// parseAmount reads an amount in uinf: "2500", "2500uinf", "1.5inf" or
// "1000inf" (1 INF = 1,000,000 uinf). It never goes through floats.
func parseAmount(s string) (uint64, error) {
	in := strings.TrimSpace(strings.ToLower(s))
	scale := int64(1)
	switch {
	case strings.HasSuffix(in, "uinf"):
		in = strings.TrimSuffix(in, "uinf")
	case strings.HasSuffix(in, "inf"):
		in = strings.TrimSuffix(in, "inf")
		scale = ledger.UinfPerINF
	}
	r, ok := new(big.Rat).SetString(in)
	if !ok || in == "" || strings.ContainsAny(in, "eE/") {
		return 0, fmt.Errorf("amount %q: want a number of uinf (2500), or INF with a suffix (1.5inf)", s)
	}
	r.Mul(r, new(big.Rat).SetInt64(scale))
	if r.Sign() < 0 {
		return 0, fmt.Errorf("amount %q is negative", s)
	}
	if !r.IsInt() {
		return 0, fmt.Errorf("amount %q has a fraction of a uinf; 1 INF = 1000000 uinf", s)
	}
	if !r.Num().IsUint64() {
		return 0, fmt.Errorf("amount %q is larger than 2^64-1 uinf", s)
	}
	return r.Num().Uint64(), nil
}

// formatAmount renders uinf as INF with up to 6 decimals.
func formatAmount(u uint64) string {
	whole, frac := u/ledger.UinfPerINF, u%ledger.UinfPerINF
	if frac == 0 {
		return fmt.Sprintf("%d INF", whole)
	}
	return strings.TrimRight(fmt.Sprintf("%d.%06d", whole, frac), "0") + " INF"
}

// parsePPM reads a fraction as a percentage ("10%"), a decimal ("0.1") or
// parts per million ("100000ppm").
func parsePPM(s string) (ledger.PPM, error) {
	in := strings.TrimSpace(s)
	scale := int64(1_000_000)
	switch {
	case strings.HasSuffix(in, "ppm"):
		in, scale = strings.TrimSuffix(in, "ppm"), 1
	case strings.HasSuffix(in, "%"):
		in, scale = strings.TrimSuffix(in, "%"), 10_000
	}
	r, ok := new(big.Rat).SetString(in)
	if !ok || in == "" || strings.ContainsAny(in, "eE/") {
		return 0, fmt.Errorf("%q: want a percentage (10%%), a fraction (0.1) or parts per million (100000ppm)", s)
	}
	r.Mul(r, new(big.Rat).SetInt64(scale))
	if r.Sign() < 0 || !r.IsInt() || !r.Num().IsUint64() || r.Num().Uint64() > 1_000_000 {
		return 0, fmt.Errorf("%q must be between 0 and 100%% in steps of 0.0001%%", s)
	}
	return ledger.PPM(r.Num().Uint64()), nil
}
