package container

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/inferd/inferd/compute/jobspec"
)

// Host is what a provider's machine offers to jobs.
type Host struct {
	CPUs        int
	MemoryBytes uint64
	GPUs        []GPUInfo
	// CDIDevices are the fully qualified CDI device names found in the
	// spec directories (e.g. "nvidia.com/gpu=0"), sorted.
	CDIDevices []string
}

// GPUInfo is one GPU as nvidia-smi reports it.
type GPUInfo struct {
	Name        string
	MemoryBytes uint64
}

// CDISpecDirs are the directories podman reads CDI specs from.
var CDISpecDirs = []string{"/etc/cdi", "/var/run/cdi"}

// Detect reads the host's cores, memory (/proc/meminfo), GPUs (nvidia-smi,
// when installed) and CDI devices. A missing nvidia-smi means no GPUs; one
// that fails is an error.
func Detect(ctx context.Context) (Host, error) {
	h := Host{CPUs: runtime.NumCPU()}
	mi, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return h, fmt.Errorf("detect memory: %w", err)
	}
	if h.MemoryBytes, err = ParseMeminfo(mi); err != nil {
		return h, err
	}
	if smi, err := exec.LookPath("nvidia-smi"); err == nil {
		c, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(c, smi, "--query-gpu=name,memory.total", "--format=csv,noheader").Output()
		if err != nil {
			return h, fmt.Errorf("detect GPUs: nvidia-smi: %w", err)
		}
		if h.GPUs, err = ParseNvidiaSMI(out); err != nil {
			return h, err
		}
	}
	h.CDIDevices, err = ListCDIDevices(CDISpecDirs...)
	return h, err
}

// ParseMeminfo returns MemTotal from /proc/meminfo, in bytes.
func ParseMeminfo(b []byte) (uint64, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == "MemTotal:" && f[2] == "kB" {
			n, err := strconv.ParseUint(f[1], 10, 64)
			if err == nil {
				return n << 10, nil
			}
		}
	}
	return 0, fmt.Errorf("detect memory: no MemTotal line in /proc/meminfo")
}

var smiUnits = map[string]uint64{"MiB": 1 << 20, "GiB": 1 << 30, "KiB": 1 << 10}

// ParseNvidiaSMI parses the output of `nvidia-smi
// --query-gpu=name,memory.total --format=csv,noheader`: one "name, N MiB"
// line per GPU.
func ParseNvidiaSMI(out []byte) ([]GPUInfo, error) {
	var gs []GPUInfo
	for i, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k := strings.LastIndex(line, ",")
		if k < 0 {
			return nil, fmt.Errorf("nvidia-smi line %d %q: expected \"name, memory\"", i+1, line)
		}
		name := strings.TrimSpace(line[:k])
		f := strings.Fields(line[k+1:])
		if len(f) != 2 || smiUnits[f[1]] == 0 || name == "" {
			return nil, fmt.Errorf("nvidia-smi line %d %q: expected \"name, N MiB\"", i+1, line)
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("nvidia-smi line %d %q: memory %q is not a number", i+1, line, f[0])
		}
		gs = append(gs, GPUInfo{Name: name, MemoryBytes: n * smiUnits[f[1]]})
	}
	return gs, nil
}

// ListCDIDevices lists the devices of the CDI specs (*.json, *.yaml) in
// dirs as "kind=name". Missing directories are skipped. YAML specs are read
// for their top-level kind and their devices' names only, which is what
// nvidia-ctk writes.
func ListCDIDevices(dirs ...string) ([]string, error) {
	var names []string
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("CDI specs: %w", err)
		}
		for _, e := range ents {
			p := filepath.Join(d, e.Name())
			var kind string
			var devs []string
			switch filepath.Ext(e.Name()) {
			case ".json":
				b, err := os.ReadFile(p)
				if err != nil {
					return nil, fmt.Errorf("CDI spec %s: %w", p, err)
				}
				var s struct {
					Kind    string `json:"kind"`
					Devices []struct {
						Name string `json:"name"`
					} `json:"devices"`
				}
				if err := json.Unmarshal(b, &s); err != nil {
					return nil, fmt.Errorf("CDI spec %s: %w", p, err)
				}
				kind = s.Kind
				for _, x := range s.Devices {
					devs = append(devs, x.Name)
				}
			case ".yaml", ".yml":
				b, err := os.ReadFile(p)
				if err != nil {
					return nil, fmt.Errorf("CDI spec %s: %w", p, err)
				}
				kind, devs = yamlCDI(b)
			default:
				continue
			}
			if kind == "" {
				return nil, fmt.Errorf("CDI spec %s: no kind", p)
			}
			for _, n := range devs {
				names = append(names, kind+"="+n)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// yamlCDI reads kind and devices[].name from a CDI spec in YAML as
// nvidia-ctk writes it: block style, a device's keys either on its "- "
// line or indented two more than its dash.
func yamlCDI(b []byte) (string, []string) {
	var kind string
	var devs []string
	inDevices, item := false, -1
	unq := func(s string) string { return strings.Trim(strings.TrimSpace(s), `"'`) }
	for _, line := range strings.Split(string(b), "\n") {
		trim := strings.TrimLeft(line, " ")
		indent := len(line) - len(trim)
		if trim == "" || strings.HasPrefix(trim, "#") {
			continue
		}
		if indent == 0 && !strings.HasPrefix(trim, "- ") {
			inDevices, item = strings.HasPrefix(trim, "devices:"), -1
			if k, ok := strings.CutPrefix(trim, "kind:"); ok {
				kind = unq(k)
			}
			continue
		}
		if !inDevices {
			continue
		}
		if strings.HasPrefix(trim, "- ") && (item < 0 || indent == item) {
			item = indent
			trim, indent = trim[2:], indent+2
		}
		if n, ok := strings.CutPrefix(trim, "name:"); ok && indent == item+2 {
			devs = append(devs, unq(n))
		}
	}
	return kind, devs
}

// Fits says whether a job with spec s can run on this host: enough cores
// and memory, and for a GPU job enough GPUs with the VRAM and (when the
// spec names models) a matching model name. The error names each shortfall.
func (h Host) Fits(s *jobspec.Spec) error {
	var short []string
	r := s.Resources
	if r.MilliCPU > uint64(h.CPUs)*1000 {
		short = append(short, fmt.Sprintf("%d.%03d cores asked, %d here", r.MilliCPU/1000, r.MilliCPU%1000, h.CPUs))
	}
	if r.MemoryBytes > h.MemoryBytes {
		short = append(short, fmt.Sprintf("%d bytes of memory asked, %d here", r.MemoryBytes, h.MemoryBytes))
	}
	if g := r.GPU; g != nil {
		n := 0
		for _, x := range h.GPUs {
			model := len(g.Models) == 0 || slices.ContainsFunc(g.Models, func(m string) bool {
				return strings.Contains(strings.ToLower(x.Name), strings.ToLower(m))
			})
			if model && x.MemoryBytes >= g.MinVRAMBytes {
				n++
			}
		}
		if uint64(n) < g.Count {
			short = append(short, fmt.Sprintf("%d GPU(s) with at least %d bytes of VRAM of models %v asked, %d here", g.Count, g.MinVRAMBytes, g.Models, n))
		}
	}
	if len(short) > 0 {
		return fmt.Errorf("container: the job does not fit this host: %s", strings.Join(short, "; "))
	}
	return nil
}
