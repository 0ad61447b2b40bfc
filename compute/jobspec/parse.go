package jobspec

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// rawSpec mirrors the TOML; every leaf is a Primitive so that each field is
// decoded on its own and one mistyped field does not hide the others.
type rawSpec struct {
	Kind      toml.Primitive `toml:"kind"`
	Image     *rawImage      `toml:"image"`
	Command   toml.Primitive `toml:"command"`
	Args      toml.Primitive `toml:"args"`
	Env       toml.Primitive `toml:"env"`
	Resources *rawResources  `toml:"resources"`
	Inputs    []rawInput     `toml:"inputs"`
	Outputs   toml.Primitive `toml:"outputs"`
	TimeLimit toml.Primitive `toml:"time_limit"`
	MaxPrice  toml.Primitive `toml:"max_price"`
	Network   toml.Primitive `toml:"network"`
	Service   *rawService    `toml:"service"`
}

type rawImage struct {
	CID toml.Primitive `toml:"cid"`
	Ref toml.Primitive `toml:"ref"`
}

type rawResources struct {
	CPU    toml.Primitive `toml:"cpu"`
	Memory toml.Primitive `toml:"memory"`
	GPU    *rawGPU        `toml:"gpu"`
}

type rawGPU struct {
	Count   toml.Primitive `toml:"count"`
	MinVRAM toml.Primitive `toml:"min_vram"`
	Models  toml.Primitive `toml:"models"`
}

type rawInput struct {
	CID  toml.Primitive `toml:"cid"`
	Path toml.Primitive `toml:"path"`
}

type rawService struct {
	Port           toml.Primitive `toml:"port"`
	Health         toml.Primitive `toml:"health"`
	DurationBlocks toml.Primitive `toml:"duration_blocks"`
	PricePerBlock  toml.Primitive `toml:"price_per_block"`
}

// Parse reads a TOML job spec, checks every field and returns the spec in
// canonical units. Its error is an Errors naming each bad field, including
// unknown ones; a TOML syntax error is one FieldError without a path.
func Parse(data []byte) (*Spec, error) {
	if len(data) > MaxSpecBytes {
		return nil, Errors{{Problem: fmt.Sprintf("spec is %d bytes; at most %d", len(data), MaxSpecBytes)}}
	}
	var raw rawSpec
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&raw)
	if err != nil {
		return nil, Errors{{Problem: "not valid TOML: " + oneLine(err.Error())}}
	}
	p := parser{md: md}
	s := &Spec{}
	p.str("kind", raw.Kind, &s.Kind)
	if s.Kind == "" && !p.bad("kind") {
		s.Kind = KindBatch
	}
	if raw.Image != nil {
		p.str("image.cid", raw.Image.CID, &s.Image.CID)
		p.str("image.ref", raw.Image.Ref, &s.Image.Ref)
	}
	p.strs("command", raw.Command, &s.Command)
	p.strs("args", raw.Args, &s.Args)
	if md.IsDefined("env") {
		if err := md.PrimitiveDecode(raw.Env, &s.Env); err != nil {
			p.add("env", "expected a table of strings, e.g. [env] NAME = \"value\"")
		}
	}
	if r := raw.Resources; r != nil {
		p.cpu(r.CPU, &s.Resources.MilliCPU)
		p.size("resources.memory", r.Memory, &s.Resources.MemoryBytes)
		if g := r.GPU; g != nil {
			s.Resources.GPU = &GPU{}
			p.uint("resources.gpu.count", g.Count, &s.Resources.GPU.Count)
			p.size("resources.gpu.min_vram", g.MinVRAM, &s.Resources.GPU.MinVRAMBytes)
			p.strs("resources.gpu.models", g.Models, &s.Resources.GPU.Models)
		}
	}
	for i, in := range raw.Inputs {
		var x Input
		p.str(indexed("inputs", i)+".cid", in.CID, &x.CID)
		p.str(indexed("inputs", i)+".path", in.Path, &x.Path)
		s.Inputs = append(s.Inputs, x)
	}
	p.strs("outputs", raw.Outputs, &s.Outputs)
	p.duration("time_limit", raw.TimeLimit, &s.TimeLimit)
	p.price("max_price", raw.MaxPrice, &s.MaxPrice)
	if md.IsDefined("network") {
		if err := md.PrimitiveDecode(raw.Network, &s.Network); err != nil {
			p.add("network", "expected true or false")
		}
	}
	if sv := raw.Service; sv != nil {
		s.Service = &Service{}
		p.uint("service.port", sv.Port, &s.Service.Port)
		p.str("service.health", sv.Health, &s.Service.HealthPath)
		p.uint("service.duration_blocks", sv.DurationBlocks, &s.Service.DurationBlocks)
		p.price("service.price_per_block", sv.PricePerBlock, &s.Service.PricePerBlock)
	}
	for _, k := range md.Undecoded() {
		p.add(k.String(), "unknown field; see docs/cloud.md for the fields of a job spec")
	}
	normalise(s)
	s.validate(&p.collector)
	if err := p.err(); err != nil {
		return nil, err
	}
	return s, nil
}

type parser struct {
	collector
	md toml.MetaData
}

// decode decodes the primitive at path into dst; false when absent or bad.
func (p *parser) decode(path string, prim toml.Primitive, dst any, expected string) bool {
	if !p.md.IsDefined(strings.Split(path, ".")...) && !strings.Contains(path, "[") {
		return false
	}
	if err := p.md.PrimitiveDecode(prim, dst); err != nil {
		p.add(path, "expected %s", expected)
		return false
	}
	return true
}

func (p *parser) str(path string, prim toml.Primitive, dst *string) {
	p.decode(path, prim, dst, "a string")
}

func (p *parser) strs(path string, prim toml.Primitive, dst *[]string) {
	p.decode(path, prim, dst, "an array of strings, e.g. [\"a\", \"b\"]")
}

func (p *parser) uint(path string, prim toml.Primitive, dst *uint64) {
	var v int64
	if p.decode(path, prim, &v, "a whole number") {
		if v < 0 {
			p.add(path, "%d is negative; expected a whole number >= 0", v)
			return
		}
		*dst = uint64(v)
	}
}

func (p *parser) cpu(prim toml.Primitive, dst *uint64) {
	const path = "resources.cpu"
	var f float64
	if !p.decode(path, prim, &f, "a number of cores, e.g. 2 or 0.5") {
		return
	}
	m := f * 1000
	if math.IsNaN(m) || m < 1 || m > MaxMilliCPU || m != math.Trunc(m) {
		p.add(path, "%v; cores from 0.001 to %d in steps of 0.001", f, MaxMilliCPU/1000)
		return
	}
	*dst = uint64(m)
}

func (p *parser) size(path string, prim toml.Primitive, dst *uint64) {
	var s string
	if p.decode(path, prim, &s, "a size string such as \"512MiB\" or \"16GiB\"") {
		n, err := ParseSize(s)
		if err != nil {
			p.add(path, "%v", err)
			return
		}
		*dst = n
	}
}

func (p *parser) duration(path string, prim toml.Primitive, dst *uint64) {
	var s string
	if !p.decode(path, prim, &s, "a duration string such as \"90s\", \"10m\" or \"2h\"") {
		return
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d%time.Second != 0 {
		p.add(path, "%q; a positive whole number of seconds as \"90s\", \"10m\" or \"2h\"", s)
		return
	}
	*dst = uint64(d / time.Second)
}

func (p *parser) price(path string, prim toml.Primitive, dst *uint64) {
	var s string
	if !p.decode(path, prim, &s, "an amount string such as \"2inf\" or \"1500uinf\"") {
		return
	}
	n, err := ParseAmount(s)
	if err != nil {
		p.add(path, "%v", err)
		return
	}
	*dst = n
}

var sizeUnits = map[string]uint64{
	"": 1, "B": 1,
	"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
}

// ParseSize parses a byte size: a whole number with an optional unit (B,
// KB, MB, GB, TB, KiB, MiB, GiB, TiB), as "512MiB".
func ParseSize(s string) (uint64, error) {
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if i < 0 {
		i = len(s)
	}
	num, unit := s[:i], strings.TrimSpace(s[i:])
	mul, ok := sizeUnits[unit]
	n, err := strconv.ParseUint(num, 10, 64)
	if !ok || err != nil || n > math.MaxUint64/mul {
		return 0, fmt.Errorf("%q is not a size; use a whole number and a unit, e.g. \"512MiB\" or \"16GiB\"", s)
	}
	return n * mul, nil
}

// ParseAmount parses "2inf", "0.5inf" or "1500uinf" into uinf (1 INF =
// 10^6 uinf).
func ParseAmount(s string) (uint64, error) {
	bad := fmt.Errorf("%q is not an amount; use e.g. \"2inf\", \"0.25inf\" or \"1500uinf\"", s)
	if v, ok := strings.CutSuffix(s, "uinf"); ok {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, bad
		}
		return n, nil
	}
	v, ok := strings.CutSuffix(s, "inf")
	if !ok {
		return 0, bad
	}
	whole, frac, _ := strings.Cut(v, ".")
	if whole == "" || len(frac) > 6 || strings.ContainsAny(whole+frac, "+-") {
		return 0, bad
	}
	w, err := strconv.ParseUint(whole, 10, 64)
	if err != nil || w > math.MaxUint64/1_000_000 {
		return 0, bad
	}
	var f uint64
	if frac != "" {
		f, err = strconv.ParseUint(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
		if err != nil {
			return 0, bad
		}
	}
	if w*1_000_000 > math.MaxUint64-f {
		return 0, bad
	}
	return w*1_000_000 + f, nil
}

func indexed(p string, i int) string { return fmt.Sprintf("%s[%d]", p, i) }

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// normalise makes empty lists and tables absent, as in the canonical
// encoding (which omits them), so that Parse and Decode agree.
func normalise(s *Spec) {
	if len(s.Command) == 0 {
		s.Command = nil
	}
	if len(s.Args) == 0 {
		s.Args = nil
	}
	if len(s.Env) == 0 {
		s.Env = nil
	}
	if len(s.Outputs) == 0 {
		s.Outputs = nil
	}
	if g := s.Resources.GPU; g != nil && len(g.Models) == 0 {
		g.Models = nil
	}
}
