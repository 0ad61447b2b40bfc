package mlp

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrBadDataset: the dataset bytes are not a valid dataset.
var ErrBadDataset = errors.New("bad dataset")

// Caps on a dataset.
const (
	MaxDatasetBytes = 64 << 20
	MaxRows         = 1 << 20
	MaxFeatures     = MaxWidth
)

// Dataset is a table of feature rows with one label each.
type Dataset struct {
	Features []string  // column names, without "label"
	X        []float64 // Rows() × len(Features), row-major
	Y        []float64 // one label per row
}

// Rows is the number of examples.
func (d *Dataset) Rows() int { return len(d.Y) }

// Row returns the features of row i.
func (d *Dataset) Row(i int) []float64 {
	n := len(d.Features)
	return d.X[i*n : (i+1)*n]
}

func badData(line int, format string, args ...any) error {
	return fmt.Errorf("%w: line %d: %s", ErrBadDataset, line, fmt.Sprintf(format, args...))
}

// ParseDataset reads the CSV dataset format: UTF-8 text, lines ending in
// "\n" (or "\r\n"), fields separated by "," with no quoting and no spaces.
// Line 1 is the header: one or more unique feature names, then "label".
// Every other line is a row with as many fields as the header, each a
// finite decimal number ([+-]digits[.digits][e[+-]digits]). There is at
// least one row and no blank line; the final newline is optional. Errors
// wrap ErrBadDataset and name the line and field.
func ParseDataset(b []byte) (*Dataset, error) {
	if len(b) > MaxDatasetBytes {
		return nil, fmt.Errorf("%w: %d bytes exceeds the %d-byte cap", ErrBadDataset, len(b), MaxDatasetBytes)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty file, want a header line and rows", ErrBadDataset)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	lines := bytes.Split(b, []byte("\n"))
	header := strings.Split(string(bytes.TrimSuffix(lines[0], []byte("\r"))), ",")
	if len(header) < 2 || header[len(header)-1] != "label" {
		return nil, badData(1, "header %q must list the features, then \"label\" last", strings.Join(header, ","))
	}
	d := &Dataset{Features: header[:len(header)-1]}
	if len(d.Features) > MaxFeatures {
		return nil, badData(1, "%d features exceeds the cap of %d", len(d.Features), MaxFeatures)
	}
	seen := map[string]int{}
	for i, name := range header {
		switch {
		case name == "":
			return nil, badData(1, "field %d: empty column name", i+1)
		case strings.TrimSpace(name) != name || strings.ContainsAny(name, "\"\r"):
			return nil, badData(1, "field %d: column name %q has spaces or quotes", i+1, name)
		case seen[name] > 0:
			return nil, badData(1, "field %d: column %q repeats field %d", i+1, name, seen[name])
		}
		seen[name] = i + 1
	}
	rows := len(lines) - 1
	if rows == 0 {
		return nil, badData(2, "no rows after the header")
	}
	if rows > MaxRows {
		return nil, fmt.Errorf("%w: %d rows exceeds the cap of %d", ErrBadDataset, rows, MaxRows)
	}
	nf := len(d.Features)
	// Every value takes at least two bytes ("0,"), so len(b)/2 bounds the
	// allocation even when the line count and header promise more.
	d.X = make([]float64, 0, min(rows*nf, len(b)/2))
	d.Y = make([]float64, 0, rows)
	for li, raw := range lines[1:] {
		line := li + 2
		raw = bytes.TrimSuffix(raw, []byte("\r"))
		if len(raw) == 0 {
			return nil, badData(line, "blank line")
		}
		fields := bytes.Split(raw, []byte(","))
		if len(fields) != len(header) {
			return nil, badData(line, "%d fields, the header has %d", len(fields), len(header))
		}
		for fi, f := range fields {
			v, err := parseDecimal(f)
			if err != nil {
				return nil, badData(line, "field %d (%q): %v", fi+1, header[fi], err)
			}
			if fi < nf {
				d.X = append(d.X, v)
			} else {
				d.Y = append(d.Y, v)
			}
		}
	}
	return d, nil
}

// parseDecimal accepts only plain decimal notation: no hex, no
// underscores, no "NaN" or "Inf", and a result that is finite.
func parseDecimal(f []byte) (float64, error) {
	if !isDecimal(f) {
		return 0, fmt.Errorf("%q is not a decimal number", f)
	}
	v, err := strconv.ParseFloat(string(f), 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is out of the float64 range", f)
	}
	return v, nil
}

func isDecimal(s []byte) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if digits() == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// Encode writes the dataset in the CSV format ParseDataset reads, each
// number in the shortest form that reads back exactly.
func (d *Dataset) Encode() []byte {
	var b bytes.Buffer
	b.WriteString(strings.Join(d.Features, ","))
	b.WriteString(",label\n")
	for i := range d.Rows() {
		for _, v := range d.Row(i) {
			b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatFloat(d.Y[i], 'g', -1, 64))
		b.WriteByte('\n')
	}
	return b.Bytes()
}
