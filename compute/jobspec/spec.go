package jobspec

import (
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/ipfs/go-cid"
)

// Kinds of job.
const (
	KindBatch   = "batch"   // runs to exit; its outputs are collected
	KindService = "service" // runs for DurationBlocks, serving Port
)

// OutputDir is the one writable directory of a job's container; every
// output path lies under it.
const OutputDir = "/out"

// Caps on a spec's size: a spec is small, it goes on-chain.
const (
	MaxSpecBytes    = 64 << 10
	MaxArgs         = 64 // command and args together
	MaxArgBytes     = 4096
	MaxEnv          = 64
	MaxEnvBytes     = 4096 // one value
	MaxInputs       = 16
	MaxOutputs      = 16
	MaxPathBytes    = 256
	MaxModels       = 16
	MaxGPUs         = 16
	MaxTimeLimit    = 7 * 24 * 3600 // seconds
	MaxMilliCPU     = 1024 * 1000
	MinMemoryBytes  = 4 << 20
	MaxMemoryBytes  = 16 << 40
	MaxDurationBlks = 10_000_000
)

// Spec is a validated job spec in canonical units. Its CBOR form (Encode)
// is what goes on-chain; keys are short and fixed.
type Spec struct {
	Kind      string            `cbor:"kind"`
	Image     Image             `cbor:"image"`
	Command   []string          `cbor:"cmd,omitempty"`
	Args      []string          `cbor:"args,omitempty"`
	Env       map[string]string `cbor:"env,omitempty"`
	Resources Resources         `cbor:"res"`
	Inputs    []Input           `cbor:"in,omitempty"`
	Outputs   []string          `cbor:"out,omitempty"`
	// TimeLimit is the wall-clock cap of a batch job, in seconds.
	TimeLimit uint64 `cbor:"time,omitempty"`
	// MaxPrice is the most a batch job pays, in uinf.
	MaxPrice uint64   `cbor:"max_price,omitempty"`
	Network  bool     `cbor:"net,omitempty"`
	Service  *Service `cbor:"svc,omitempty"`
}

// Image names the container image: exactly one of CID (of an OCI image
// archive added with `inferd add`) or Ref (a registry reference pinned to
// a digest).
type Image struct {
	CID string `cbor:"cid,omitempty"`
	Ref string `cbor:"ref,omitempty"`
}

// Resources a job needs.
type Resources struct {
	MilliCPU    uint64 `cbor:"mcpu"`
	MemoryBytes uint64 `cbor:"mem"`
	GPU         *GPU   `cbor:"gpu,omitempty"`
}

// GPU needs: Count devices, each with at least MinVRAMBytes, of one of
// Models when Models is not empty (names as nvidia-smi prints them, matched
// as substrings, e.g. "H100").
type GPU struct {
	Count        uint64   `cbor:"n"`
	MinVRAMBytes uint64   `cbor:"vram,omitempty"`
	Models       []string `cbor:"models,omitempty"`
}

// Input is content by CID, mounted read-only at Path in the container.
type Input struct {
	CID  string `cbor:"cid"`
	Path string `cbor:"path"`
}

// Service is what a long-running job serves.
type Service struct {
	Port           uint64 `cbor:"port"`
	HealthPath     string `cbor:"health,omitempty"`
	DurationBlocks uint64 `cbor:"blocks"`
	PricePerBlock  uint64 `cbor:"price"`
}

var (
	envName   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	refRegexp = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@sha256:[0-9a-f]{64}$`)
)

// Validate checks every field and returns Errors naming each bad one.
func (s *Spec) Validate() error {
	var c collector
	s.validate(&c)
	return c.err()
}

func (s *Spec) validate(c *collector) {
	switch s.Kind {
	case KindBatch, KindService:
	default:
		c.add("kind", "%q is not a kind; use \"batch\" or \"service\"", s.Kind)
	}
	validImage(c, s.Image)
	if len(s.Command)+len(s.Args) > MaxArgs {
		c.add("args", "command and args have %d entries together; at most %d", len(s.Command)+len(s.Args), MaxArgs)
	}
	for i, a := range s.Command {
		validArg(c, indexed("command", i), a)
	}
	for i, a := range s.Args {
		validArg(c, indexed("args", i), a)
	}
	if len(s.Env) > MaxEnv {
		c.add("env", "%d variables; at most %d", len(s.Env), MaxEnv)
	}
	for _, k := range sortedKeys(s.Env) {
		p := "env." + k
		if !envName.MatchString(k) || len(k) > MaxPathBytes {
			c.add(p, "%q is not a variable name; use letters, digits and _, not starting with a digit", k)
		} else if len(s.Env[k]) > MaxEnvBytes || strings.ContainsRune(s.Env[k], 0) {
			c.add(p, "value is %d bytes or holds a NUL; at most %d bytes of text", len(s.Env[k]), MaxEnvBytes)
		}
	}
	validResources(c, s.Resources)
	validMounts(c, s.Inputs, s.Outputs)
	switch s.Kind {
	case KindBatch:
		if s.TimeLimit == 0 && !c.bad("time_limit") {
			c.add("time_limit", "missing; a batch job needs a time limit such as \"10m\"")
		} else if s.TimeLimit > MaxTimeLimit {
			c.add("time_limit", "%ds is over the cap of %ds (7 days)", s.TimeLimit, MaxTimeLimit)
		}
		if s.MaxPrice == 0 {
			c.add("max_price", "missing; say the most the job may cost, e.g. \"2inf\" or \"1500000uinf\"")
		}
		if s.Service != nil {
			c.add("service", "a batch job has no [service] section; use kind = \"service\"")
		}
	case KindService:
		validService(c, s.Service)
		if len(s.Outputs) > 0 {
			c.add("outputs", "a service has no outputs; outputs are collected when a batch job exits")
		}
		if s.TimeLimit != 0 {
			c.add("time_limit", "a service runs for service.duration_blocks; remove time_limit")
		}
		if s.MaxPrice != 0 {
			c.add("max_price", "a service is paid by service.price_per_block; remove max_price")
		}
	}
}

func validImage(c *collector, im Image) {
	switch {
	case im.CID == "" && im.Ref == "":
		if !c.bad("image.cid") && !c.bad("image.ref") {
			c.add("image", "missing; set image.cid (an OCI archive added with `inferd add`) or image.ref (name@sha256:<64 hex>)")
		}
	case im.CID != "" && im.Ref != "":
		c.add("image", "both cid and ref are set; set exactly one")
	case im.CID != "":
		if _, err := cid.Decode(im.CID); err != nil {
			c.add("image.cid", "%q is not a CID; use the CID `inferd add` printed for the image archive", im.CID)
		}
	default:
		if !refRegexp.MatchString(im.Ref) {
			if !strings.Contains(im.Ref, "@sha256:") {
				c.add("image.ref", "%q is not pinned to a digest; use name@sha256:<64 hex> (see `podman inspect --format '{{.Digest}}'`)", im.Ref)
			} else {
				c.add("image.ref", "%q is not a reference; use lowercase name[:tag]@sha256:<64 lowercase hex>", im.Ref)
			}
		}
	}
}

func validArg(c *collector, p, a string) {
	if len(a) > MaxArgBytes || strings.ContainsRune(a, 0) {
		c.add(p, "%d bytes or holds a NUL; at most %d bytes of text", len(a), MaxArgBytes)
	}
}

func validResources(c *collector, r Resources) {
	if r.MilliCPU == 0 {
		if !c.bad("resources.cpu") {
			c.add("resources.cpu", "missing; cores as a number, e.g. 1 or 0.5")
		}
	} else if r.MilliCPU > MaxMilliCPU {
		c.add("resources.cpu", "%d millicores is over the cap of %d cores", r.MilliCPU, MaxMilliCPU/1000)
	}
	if r.MemoryBytes == 0 {
		if !c.bad("resources.memory") {
			c.add("resources.memory", "missing; a size such as \"512MiB\"")
		}
	} else if r.MemoryBytes < MinMemoryBytes || r.MemoryBytes > MaxMemoryBytes {
		c.add("resources.memory", "%d bytes is outside 4MiB..16TiB", r.MemoryBytes)
	}
	if g := r.GPU; g != nil {
		if g.Count == 0 || g.Count > MaxGPUs {
			c.add("resources.gpu.count", "%d; a [resources.gpu] section needs 1..%d GPUs (drop the section for none)", g.Count, MaxGPUs)
		}
		if len(g.Models) > MaxModels {
			c.add("resources.gpu.models", "%d models; at most %d", len(g.Models), MaxModels)
		}
		for i, m := range g.Models {
			if m == "" || len(m) > 64 {
				c.add(indexed("resources.gpu.models", i), "%q; a model name is 1..64 bytes, e.g. \"H100\"", m)
			}
		}
	}
}

// cleanAbs reports whether p is an absolute, clean container path.
func cleanAbs(p string) bool {
	return strings.HasPrefix(p, "/") && path.Clean(p) == p && len(p) <= MaxPathBytes && !strings.ContainsRune(p, 0)
}

func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

var reservedDirs = []string{"/proc", "/sys", "/dev", "/tmp", OutputDir}

func validMounts(c *collector, in []Input, out []string) {
	if len(in) > MaxInputs {
		c.add("inputs", "%d inputs; at most %d", len(in), MaxInputs)
	}
	var mounted []string
	for i, x := range in {
		p := indexed("inputs", i)
		if _, err := cid.Decode(x.CID); err != nil {
			c.add(p+".cid", "%q is not a CID; use the CID `inferd add` printed", x.CID)
		}
		switch {
		case !cleanAbs(x.Path) || x.Path == "/":
			c.add(p+".path", "%q is not a clean absolute path below /, e.g. \"/in/data\"", x.Path)
		case slices.ContainsFunc(reservedDirs, func(d string) bool { return under(x.Path, d) || under(d, x.Path) }):
			c.add(p+".path", "%q overlaps %s; mount inputs elsewhere, e.g. under /in", x.Path, strings.Join(reservedDirs, ", "))
		case slices.ContainsFunc(mounted, func(m string) bool { return under(x.Path, m) || under(m, x.Path) }):
			c.add(p+".path", "%q overlaps another input's path; give each input its own directory", x.Path)
		default:
			mounted = append(mounted, x.Path)
		}
	}
	if len(out) > MaxOutputs {
		c.add("outputs", "%d outputs; at most %d", len(out), MaxOutputs)
	}
	for i, o := range out {
		p := indexed("outputs", i)
		switch {
		case !cleanAbs(o) || !strings.HasPrefix(o, OutputDir+"/"):
			c.add(p, "%q is not a clean path under %s; write results under %s, e.g. \"%s/result.txt\"", o, OutputDir, OutputDir, OutputDir)
		case slices.Contains(out[:i], o):
			c.add(p, "%q is listed twice", o)
		}
	}
}

func validService(c *collector, s *Service) {
	if s == nil {
		if !c.bad("service") {
			c.add("service", "missing; a service job needs [service] with port, duration_blocks and price_per_block")
		}
		return
	}
	if s.Port == 0 || s.Port > 65535 {
		c.add("service.port", "%d; a TCP port 1..65535", s.Port)
	}
	if s.HealthPath != "" && (!strings.HasPrefix(s.HealthPath, "/") || len(s.HealthPath) > MaxPathBytes || strings.ContainsAny(s.HealthPath, " \x00")) {
		c.add("service.health", "%q; an HTTP path starting with /, e.g. \"/healthz\"", s.HealthPath)
	}
	if s.DurationBlocks == 0 || s.DurationBlocks > MaxDurationBlks {
		c.add("service.duration_blocks", "%d; 1..%d blocks", s.DurationBlocks, MaxDurationBlks)
	}
	if s.PricePerBlock == 0 && !c.bad("service.price_per_block") {
		c.add("service.price_per_block", "missing; the price per block, e.g. \"100uinf\"")
	}
}
