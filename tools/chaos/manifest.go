package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Manifest is one chaos run, read from TOML (see docs/reliability.md,
// "Chaos runs", for the format and tools/chaos/manifests/ for examples).
type Manifest struct {
	Name       string `toml:"name"`
	Validators int    `toml:"validators"`
	FullNodes  int    `toml:"full_nodes"`
	// Network is "loopback" (every node on 127.0.0.1) or "netns" (each node
	// in a network namespace of its own, joined by a bridge; needs root).
	Network       string   `toml:"network"`
	CommitDelay   Duration `toml:"commit_delay"`
	RecoveryLimit Duration `toml:"recovery_limit"`
	// Drain is how long, after the load, the runner waits for accepted
	// transactions to commit before it counts the missing ones as lost.
	Drain        Duration        `toml:"drain"`
	Load         Load            `toml:"load"`
	Perturbation []*Perturbation `toml:"perturbation"`
}

// Load is the transaction load: signed transfers at Rate per second for
// Duration, spread over the nodes that are not being perturbed.
type Load struct {
	Rate     int      `toml:"rate"`
	Duration Duration `toml:"duration"`
	// Senders is the number of funded accounts that send (each has one
	// transaction in flight at a time); 0 picks 4 per tx/s.
	Senders int `toml:"senders"`
}

// Perturbation is one fault, applied At (from the start of the load) to
// Nodes, and undone Duration later.
type Perturbation struct {
	At          Duration `toml:"at"`
	Op          string   `toml:"op"`
	Nodes       []string `toml:"nodes"`
	Duration    Duration `toml:"duration"`
	Probability float64  `toml:"probability"` // loss
	Delay       Duration `toml:"delay"`       // latency
}

// Ops and what they need.
const (
	OpKill       = "kill"       // SIGKILL, start again after duration
	OpPause      = "pause"      // SIGSTOP, SIGCONT after duration
	OpRestart    = "restart"    // SIGTERM, wait for the exit, start again after duration (may be 0)
	OpDisconnect = "disconnect" // drop all p2p traffic of the node (netns), reconnect after duration
	OpLoss       = "loss"       // drop each p2p packet with probability (netns, iptables statistic)
	OpLatency    = "latency"    // add delay to each p2p byte stream (netns, userspace proxy)
	OpPartition  = "partition"  // cut the named nodes off from all the others, who stay connected (netns)
	OpClockSkew  = "clock_skew" // refused: see errClockSkew
)

var knownOps = []string{OpKill, OpPause, OpRestart, OpDisconnect, OpLoss, OpLatency, OpPartition}

var errClockSkew = errors.New("clock_skew is not supported: Linux time namespaces offset only the monotonic and boot clocks, not CLOCK_REALTIME that block times come from; " +
	"libfaketime cannot reach a Go binary (Go reads the clock through the vDSO, not libc); and setting the host clock would skew every process on the machine")

func (p *Perturbation) netnsOnly() bool {
	return p.Op == OpDisconnect || p.Op == OpLoss || p.Op == OpLatency || p.Op == OpPartition
}

// End is when the perturbation is undone.
func (p *Perturbation) End() time.Duration { return p.At.Duration + p.Duration.Duration }

func (p *Perturbation) String() string {
	s := fmt.Sprintf("%s %s at %v", p.Op, strings.Join(p.Nodes, ","), p.At.Duration)
	switch p.Op {
	case OpLoss:
		s += fmt.Sprintf(" p=%g", p.Probability)
	case OpLatency:
		s += fmt.Sprintf(" +%v", p.Delay.Duration)
	}
	if p.Duration.Duration > 0 {
		s += fmt.Sprintf(" for %v", p.Duration.Duration)
	}
	return s
}

// Duration is a time.Duration written as a string in TOML ("5s").
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("%q is negative", b)
	}
	d.Duration = v
	return nil
}

// LoadManifest reads and validates a manifest file.
func LoadManifest(path string) (*Manifest, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// ParseManifest decodes TOML, refuses unknown fields, fills defaults and
// validates.
func ParseManifest(raw []byte) (*Manifest, error) {
	m := &Manifest{}
	md, err := toml.NewDecoder(bytes.NewReader(raw)).Decode(m)
	if err != nil {
		return nil, err
	}
	if und := md.Undecoded(); len(und) > 0 {
		var names []string
		for _, k := range und {
			names = append(names, k.String())
		}
		return nil, fmt.Errorf("unknown field(s): %s", strings.Join(names, ", "))
	}
	m.defaults()
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Manifest) defaults() {
	if m.Name == "" {
		m.Name = "unnamed"
	}
	if m.Network == "" {
		m.Network = "loopback"
	}
	if m.CommitDelay.Duration == 0 {
		m.CommitDelay.Duration = 200 * time.Millisecond
	}
	if m.RecoveryLimit.Duration == 0 {
		m.RecoveryLimit.Duration = 20 * time.Second
	}
	if m.Drain.Duration == 0 {
		m.Drain.Duration = 30 * time.Second
	}
	if m.Load.Senders == 0 {
		m.Load.Senders = max(4, 4*m.Load.Rate)
	}
}

// NodeNames lists the nodes: validators node0.., then full nodes full0...
func (m *Manifest) NodeNames() []string {
	var names []string
	for i := 0; i < m.Validators; i++ {
		names = append(names, fmt.Sprintf("node%d", i))
	}
	for i := 0; i < m.FullNodes; i++ {
		names = append(names, fmt.Sprintf("full%d", i))
	}
	return names
}

// Validate reports the first problem of a manifest, naming the field.
func (m *Manifest) Validate() error {
	if m.Validators < 1 || m.Validators > 20 {
		return fmt.Errorf("validators = %d: want 1 to 20", m.Validators)
	}
	if m.FullNodes < 0 || m.FullNodes > 10 {
		return fmt.Errorf("full_nodes = %d: want 0 to 10", m.FullNodes)
	}
	if m.Network != "loopback" && m.Network != "netns" {
		return fmt.Errorf("network = %q: want \"loopback\" or \"netns\"", m.Network)
	}
	if m.Load.Rate < 1 || m.Load.Rate > 1000 {
		return fmt.Errorf("load.rate = %d: want 1 to 1000 tx/s", m.Load.Rate)
	}
	if m.Load.Duration.Duration <= 0 {
		return errors.New("load.duration: missing (for example \"30s\")")
	}
	if m.Load.Senders < 1 {
		return fmt.Errorf("load.senders = %d: want at least 1", m.Load.Senders)
	}
	names := m.NodeNames()
	exists := map[string]bool{}
	for _, n := range names {
		exists[n] = true
	}
	busy := map[string][]*Perturbation{}
	for i, p := range m.Perturbation {
		where := fmt.Sprintf("perturbation[%d] (%s)", i, p.Op)
		if p.Op == OpClockSkew {
			return fmt.Errorf("%s: %w", where, errClockSkew)
		}
		if !contains(knownOps, p.Op) {
			return fmt.Errorf("perturbation[%d]: op = %q: want one of %s", i, p.Op, strings.Join(knownOps, ", "))
		}
		if len(p.Nodes) == 0 {
			return fmt.Errorf("%s: nodes: name at least one node", where)
		}
		seen := map[string]bool{}
		for _, n := range p.Nodes {
			if !exists[n] {
				return fmt.Errorf("%s: node %q does not exist (this manifest has %s)", where, n, strings.Join(names, ", "))
			}
			if seen[n] {
				return fmt.Errorf("%s: node %q named twice", where, n)
			}
			seen[n] = true
		}
		if p.At.Duration >= m.Load.Duration.Duration {
			return fmt.Errorf("%s: at = %v is not within load.duration %v", where, p.At.Duration, m.Load.Duration.Duration)
		}
		if p.Duration.Duration == 0 && p.Op != OpRestart {
			return fmt.Errorf("%s: duration: missing (how long the fault lasts)", where)
		}
		if p.netnsOnly() && m.Network != "netns" {
			return fmt.Errorf("%s: needs network = \"netns\" (loopback processes share one network stack)", where)
		}
		if (p.Probability != 0) != (p.Op == OpLoss) {
			return fmt.Errorf("%s: probability is for op = \"loss\" only, and loss needs it", where)
		}
		if p.Op == OpLoss && (p.Probability <= 0 || p.Probability > 1) {
			return fmt.Errorf("%s: probability = %g: want more than 0, at most 1", where, p.Probability)
		}
		if (p.Delay.Duration != 0) != (p.Op == OpLatency) {
			return fmt.Errorf("%s: delay is for op = \"latency\" only, and latency needs it", where)
		}
		if p.Delay.Duration > 10*time.Second {
			return fmt.Errorf("%s: delay = %v: at most 10s", where, p.Delay.Duration)
		}
		if p.Op == OpPartition && len(p.Nodes) == len(names) {
			return fmt.Errorf("%s: nodes: leave at least one node on the other side", where)
		}
		if p.Op == OpPartition && m.UsesProxy() {
			return fmt.Errorf("%s: cannot be combined with latency in one manifest (the proxy hides from the namespaces who talks to whom)", where)
		}
		touched := p.Nodes
		if p.Op == OpPartition {
			touched = names // both sides
		}
		for _, n := range touched {
			for _, q := range busy[n] {
				if p.At.Duration <= q.End() && q.At.Duration <= p.End() {
					return fmt.Errorf("%s: overlaps %s on %s; one fault per node at a time", where, q, n)
				}
			}
			busy[n] = append(busy[n], p)
		}
	}
	sort.SliceStable(m.Perturbation, func(i, j int) bool { return m.Perturbation[i].At.Duration < m.Perturbation[j].At.Duration })
	return nil
}

// UsesProxy reports whether the p2p links go through the runner's
// delaying proxy (only when the schedule asks for latency).
func (m *Manifest) UsesProxy() bool {
	for _, p := range m.Perturbation {
		if p.Op == OpLatency {
			return true
		}
	}
	return false
}

// NeedsNetns reports whether the manifest needs network namespaces.
func (m *Manifest) NeedsNetns() bool { return m.Network == "netns" }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
