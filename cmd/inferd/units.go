package main

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// hexText is how tables print hashes: lower-case, as the JSON output and
// the API do. Arguments take either case.
func hexText(b []byte) string { return hex.EncodeToString(b) }

// fmtScore renders a contest score in micro-units of its metric as a
// decimal with at least four places: 930000 -> "0.9300", -1500 -> "-0.0015",
// 1234567 -> "1.234567". Exact: no floats.
func fmtScore(micro int64) string {
	neg := micro < 0
	u := uint64(micro)
	if neg {
		u = uint64(-(micro + 1)) + 1 // no overflow at MinInt64
	}
	s := fmt.Sprintf("%d.%06d", u/1_000_000, u%1_000_000)
	for strings.HasSuffix(s, "0") && len(s)-strings.IndexByte(s, '.') > 5 {
		s = s[:len(s)-1]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// fmtHeight labels a block height.
func fmtHeight(h uint64) string {
	if h == 0 {
		return "-"
	}
	return "height " + strconv.FormatUint(h, 10)
}

// fmtOps renders a count of operations with an SI prefix: 34359738368 ->
// "34.36 G".
func fmtOps(n uint64) string {
	const units = " kMGTPE"
	if n < 1000 {
		return strconv.FormatUint(n, 10)
	}
	f, i := float64(n), 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return strconv.FormatFloat(f, 'f', 2, 64) + " " + string(units[i])
}

// Event attributes that hold amounts in uinf, and those that hold Unix
// nanoseconds (beside block heights, which stay numbers).
var (
	amountAttrs = map[string]bool{"amount": true, "bond": true, "burned": true, "builders_paid": true, "carried": true,
		"carry_builders": true, "carry_validators": true, "designer_paid": true, "max_price": true, "paid": true, "pool": true,
		"price": true, "refunded": true, "self_bond": true, "set_stake": true, "stake": true, "total_bonded": true,
		"validators_paid": true, "yes": true, "no": true, "abstain": true, "veto": true, "fee": true, "reward": true}
	timeAttrs = map[string]bool{"completion_time": true, "voting_end": true, "until": true}
)

// minUnixNano tells a time in Unix nanoseconds from a block height in an
// attribute that can be either ("until": a jailed validator's time, a
// jailed provider's height): 2001-09-09 in ns.
const minUnixNano = 1_000_000_000_000_000_000

// fmtAttr renders one event attribute for a person: amounts in INF, times
// in RFC 3339, a contest's best score as a decimal.
func fmtAttr(k, v string) string {
	n, err := strconv.ParseUint(v, 10, 64)
	switch {
	case err != nil:
		if i, err := strconv.ParseInt(v, 10, 64); err == nil && k == "best" {
			return k + "=" + fmtScore(i)
		}
		return k + "=" + v
	case amountAttrs[k]:
		return k + "=" + formatAmount(n)
	case timeAttrs[k] && n >= minUnixNano:
		return k + "=" + time.Unix(0, int64(n)).UTC().Format(time.RFC3339)
	case k == "best":
		return k + "=" + fmtScore(int64(n))
	}
	return k + "=" + v
}
