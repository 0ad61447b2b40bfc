package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
)

// ByzantinePower says how much stake the Byzantine validators hold.
type ByzantinePower int

// Byzantine power regimes.
const (
	// BelowThird: a random share strictly below 1/3 (possibly zero).
	BelowThird ByzantinePower = iota
	// ExactlyThird: exactly 1/3 (equal stakes, N a multiple of 3). Still safe
	// with the correct quorum; unsafe with a ">= 2/3" quorum.
	ExactlyThird
	// OverThird: more than 1/3; safety may be lost.
	OverThird
	// NoByzantine: every validator is honest.
	NoByzantine
)

// Params are the knobs of a family of runs; the seed fixes everything else.
type Params struct {
	MinN, MaxN int // validators per run, chosen in [MinN, MaxN]
	Heights    int // every honest node must commit this many heights
	Byzantine  ByzantinePower
	// ByzKinds restricts the Byzantine behaviours (nil: all kinds).
	ByzKinds   []ByzKind
	Partitions bool // a partition before the heal
	Crashes    bool // honest crashes and restarts from the WAL before the heal
	Faults     bool // drops, duplicates and long delays before the heal
	SetChanges bool // validator powers and membership change between heights
	// InvalidTwins makes half of the second blocks of double proposals
	// invalid (otherwise both blocks are valid, the strongest split).
	InvalidTwins bool
	// SilentOverThirdUntil, when positive, makes honest validators holding
	// more than 1/3 of stake crash at time zero and restart at that time.
	SilentOverThirdUntil time.Duration
	// MaxHeal is the latest virtual time of the heal.
	MaxHeal time.Duration
}

// DefaultParams is the family that `make test` and `make sim` run.
func DefaultParams() Params {
	return Params{MinN: 4, MaxN: 10, Heights: 50, Byzantine: BelowThird, Partitions: true, Crashes: true, Faults: true, SetChanges: true, InvalidTwins: true, MaxHeal: 20 * time.Second}
}

// ByzKind is a Byzantine behaviour.
type ByzKind int

// Byzantine behaviours.
const (
	Honest ByzKind = iota
	// Silent sends nothing at all.
	Silent
	// Equivocate proposes two blocks when it proposes and signs two different
	// votes at every step, splitting the honest nodes in two groups (all
	// Byzantine validators collude on the same split).
	Equivocate
	// Amnesia follows the protocol but regularly forgets its lock and its
	// last signed message.
	Amnesia
)

func (k ByzKind) String() string {
	return [...]string{"honest", "silent", "equivocate", "amnesia"}[k]
}

// Result is the outcome of one run.
type Result struct {
	Seed        uint64
	N           int
	Byzantine   []int // node indexes
	Kinds       []ByzKind
	Violations  []string
	Events      int
	Commits     int // honest commits, all nodes
	Evidence    int // equivocations reported by honest nodes
	VirtualTime time.Duration
	Heal        time.Duration
	FirstCommit time.Duration // virtual time of the first honest commit (-1: none)
	Note        string        // the scenario, for failure reports
}

// Timeouts used by simulated validators.
var simTimeouts = consensus.Timeouts{
	Propose: 300 * time.Millisecond, ProposeDelta: 100 * time.Millisecond,
	Prevote: 150 * time.Millisecond, PrevoteDelta: 50 * time.Millisecond,
	Precommit: 150 * time.Millisecond, PrecommitDelta: 50 * time.Millisecond,
}

const (
	gossipEvery   = time.Second
	healedDelay   = 30 * time.Millisecond  // max delay after the heal
	faultyDelay   = 400 * time.Millisecond // max delay before the heal
	livenessSlack = 60 * time.Second
	perHeight     = 2 * time.Second
)

// sim is one run.
type sim struct {
	p      Params
	seed   uint64
	rng    *rand.Rand
	now    time.Duration
	events eventHeap
	seq    uint64
	nodes  []*node
	sets   []*consensus.ValidatorSet // sets[h], lazily extended
	setRng *rand.Rand
	byzPow int64
	heal   time.Duration
	group  []int // partition side of each node before the heal
	split  bool

	blocks   map[consensus.BlockID]bool // proposed blocks and their validity
	decided  map[uint64]consensus.BlockID
	signed   map[signKey]consensus.SignedRecord
	res      *Result
	nextBlk  uint64
	byzProps map[hr][2]consensus.BlockID
}

type signKey struct {
	node int
	h    uint64
	r    int32
	s    consensus.Step
}

var fakeSig = make([]byte, 64)

// Run executes the run fixed by seed.
func Run(seed uint64, p Params) (res Result) {
	s := &sim{p: p, seed: seed, rng: rand.New(rand.NewPCG(seed, 0x5eed)), setRng: rand.New(rand.NewPCG(seed, 0x5e75)),
		blocks: make(map[consensus.BlockID]bool), decided: make(map[uint64]consensus.BlockID), signed: make(map[signKey]consensus.SignedRecord)}
	s.res = &res
	res.Seed = seed
	res.FirstCommit = -1
	defer func() {
		if r := recover(); r != nil {
			res.Violations = append(res.Violations, fmt.Sprintf("panic: %v", r))
		}
	}()
	s.setup()
	s.loop()
	return res
}

func (s *sim) violate(format string, args ...any) {
	if len(s.res.Violations) < 10 {
		s.res.Violations = append(s.res.Violations, fmt.Sprintf("t=%v ", s.now)+fmt.Sprintf(format, args...))
	}
}

func (s *sim) setup() {
	p := s.p
	n := p.MinN + s.rng.IntN(p.MaxN-p.MinN+1)
	if p.Byzantine == ExactlyThird {
		n = 3 * max(2, (n+2)/3)
	}
	s.res.N = n
	powers := make([]int64, n)
	var total int64
	for i := range powers {
		powers[i] = 1 + s.rng.Int64N(100)
		if p.Byzantine == ExactlyThird {
			powers[i] = 10
		}
		total += powers[i]
	}
	kinds := make([]ByzKind, n)
	allKinds := p.ByzKinds
	if allKinds == nil {
		allKinds = []ByzKind{Silent, Equivocate, Amnesia}
	}
	order := s.rng.Perm(n)
	switch p.Byzantine {
	case BelowThird:
		limit := s.rng.IntN(n/3 + 1) // how many we try to make Byzantine
		for _, i := range order[:limit] {
			if 3*(s.byzPow+powers[i]) < total {
				s.byzPow += powers[i]
				kinds[i] = allKinds[s.rng.IntN(len(allKinds))]
			}
		}
	case ExactlyThird:
		for _, i := range order[:n/3] {
			s.byzPow += powers[i]
			kinds[i] = allKinds[s.rng.IntN(len(allKinds))]
		}
	case OverThird:
		for _, i := range order {
			if 3*s.byzPow > total {
				break
			}
			s.byzPow += powers[i]
			kinds[i] = allKinds[s.rng.IntN(len(allKinds))]
		}
	}
	vals := make([]consensus.Validator, n)
	for i := range vals {
		pub := make(keys.PubKey, 32)
		for j := range pub {
			pub[j] = byte(s.rng.Uint32())
		}
		vals[i] = consensus.Validator{Address: keys.AddressOf(pub), Power: powers[i]}
		s.nodes = append(s.nodes, &node{s: s, idx: i, addr: vals[i].Address, kind: kinds[i], power: powers[i], up: true})
		if kinds[i] != Honest {
			s.res.Byzantine = append(s.res.Byzantine, i)
			s.res.Kinds = append(s.res.Kinds, kinds[i])
		}
	}
	set, err := consensus.NewValidatorSet(vals)
	if err != nil {
		panic(err)
	}
	s.sets = []*consensus.ValidatorSet{nil, set}

	s.heal = time.Duration(s.rng.Int64N(int64(p.MaxHeal) + 1))
	if !p.Faults && !p.Partitions && !p.Crashes {
		s.heal = 0
	}
	s.res.Heal = s.heal
	if p.Partitions && s.rng.IntN(2) == 0 {
		s.split = true
		s.group = make([]int, n)
		for i := range s.group {
			s.group[i] = s.rng.IntN(2)
		}
	}
	if p.Crashes {
		for c := s.rng.IntN(3); c > 0; c-- {
			i := s.rng.IntN(n)
			if kinds[i] != Honest {
				continue
			}
			at := time.Duration(s.rng.Int64N(int64(s.heal) + 1))
			back := at + time.Duration(s.rng.Int64N(int64(s.heal-at)+1))
			s.push(event{at: at, kind: evCrash, node: i})
			s.push(event{at: back, kind: evRestart, node: i})
		}
	}
	if p.SilentOverThirdUntil > 0 {
		var down int64
		for _, i := range order {
			if kinds[i] != Honest {
				continue
			}
			if 3*down > total {
				break
			}
			down += powers[i]
			s.nodes[i].up = false
			s.push(event{at: p.SilentOverThirdUntil, kind: evRestart, node: i})
		}
	}
	s.res.Note = fmt.Sprintf("n=%d powers=%v byzantine=%v kinds=%v heal=%v split=%v", n, powers, s.res.Byzantine, s.res.Kinds, s.heal, s.split)
	for _, nd := range s.nodes {
		if nd.kind == Silent {
			continue
		}
		if nd.up {
			nd.start()
		}
		s.push(event{at: time.Duration(s.rng.Int64N(int64(gossipEvery))), kind: evGossip, node: nd.idx})
	}
}

// set returns the validator set of height h, extending the schedule. Between
// heights an honest validator may change its power, leave or come back, as
// long as the Byzantine share stays in its regime.
func (s *sim) set(h uint64) *consensus.ValidatorSet {
	for uint64(len(s.sets)) <= h {
		prev := s.sets[len(s.sets)-1]
		var changes []consensus.Validator
		if s.p.SetChanges && s.p.Byzantine == BelowThird && s.setRng.IntN(4) == 0 {
			nd := s.nodes[s.setRng.IntN(len(s.nodes))]
			if nd.kind == Honest {
				_, in := prev.Index(nd.addr)
				c := consensus.Validator{Address: nd.addr, Power: 1 + s.setRng.Int64N(100)}
				if in && s.setRng.IntN(3) == 0 {
					c.Power = 0
				}
				total := prev.TotalPower() + c.Power
				if in {
					i, _ := prev.Index(nd.addr)
					total -= prev.Validator(i).Power
				}
				if (in || c.Power > 0) && total > 0 && 3*s.byzPow < total {
					changes = append(changes, c)
				}
			}
		}
		next, err := prev.Advance(changes)
		if err != nil {
			panic(err)
		}
		s.sets = append(s.sets, next)
	}
	return s.sets[h]
}

func (s *sim) newBlock(valid bool) consensus.BlockID {
	s.nextBlk++
	var id consensus.BlockID
	v := s.nextBlk*0x9e3779b97f4a7c15 ^ s.seed
	for i := 0; i < 8; i++ {
		id[i] = byte(v >> (8 * i))
		id[8+i] = byte(s.nextBlk >> (8 * i))
	}
	id[31] = 1
	s.blocks[id] = valid
	return id
}

// loop runs events until every honest node has committed p.Heights heights,
// or the liveness deadline passes.
func (s *sim) loop() {
	deadline := s.heal + livenessSlack + time.Duration(s.p.Heights)*perHeight
	if s.p.SilentOverThirdUntil > 0 {
		deadline += s.p.SilentOverThirdUntil
	}
	for s.events.Len() > 0 {
		if s.done() {
			break
		}
		e := s.events.pop()
		if e.at > deadline {
			s.now = deadline
			s.violate("liveness: honest nodes at heights %v after the deadline; states %s", s.heights(), s.states())
			break
		}
		s.now = e.at
		s.res.Events++
		if debugHook != nil {
			debugHook(s, e)
		}
		s.dispatch(e)
		if len(s.res.Violations) > 0 {
			break
		}
	}
	s.res.VirtualTime = s.now
}

func (s *sim) done() bool {
	for _, nd := range s.nodes {
		if nd.kind == Honest && len(nd.chain) < s.p.Heights {
			return false
		}
	}
	return true
}

func (s *sim) heights() []int {
	var hs []int
	for _, nd := range s.nodes {
		if nd.kind == Honest {
			hs = append(hs, len(nd.chain))
		}
	}
	return hs
}

func (s *sim) dispatch(e event) {
	nd := s.nodes[e.node]
	switch e.kind {
	case evDeliver:
		if nd.up && nd.kind != Silent {
			nd.receive(e.from, e.pkt)
		}
	case evTimeout:
		if nd.up && nd.incarnation == e.inc {
			nd.timeout(e.timeout)
		}
	case evGossip:
		if nd.up && nd.m != nil {
			nd.gossip()
		}
		s.push(event{at: s.now + gossipEvery, kind: evGossip, node: e.node})
	case evCrash:
		nd.up = false
		nd.incarnation++
	case evRestart:
		if !nd.up {
			nd.up = true
			nd.incarnation++
			nd.start()
		}
	}
}

// send puts pkt on the wire from -> to with the network's faults.
func (s *sim) send(from, to int, pkt packet) {
	healed := s.now >= s.heal
	maxDelay := healedDelay
	copies := 1
	if !healed {
		if s.split && s.group[from] != s.group[to] {
			return
		}
		if s.p.Faults {
			maxDelay = faultyDelay
			switch x := s.rng.IntN(100); {
			case x < 10:
				return
			case x < 15:
				copies = 2
			}
		}
	}
	for ; copies > 0; copies-- {
		d := time.Millisecond + time.Duration(s.rng.Int64N(int64(maxDelay)))
		s.push(event{at: s.now + d, kind: evDeliver, node: to, from: from, pkt: pkt})
	}
}

func (s *sim) push(e event) {
	s.seq++
	e.seq = s.seq
	s.events.push(e)
}

func (s *sim) states() string {
	out := ""
	for _, nd := range s.nodes {
		if nd.m != nil {
			st := nd.m.State()
			out += fmt.Sprintf("\n  node %d %v up=%v: h=%d r=%d %s lock=%d/%s valid=%d/%s", nd.idx, nd.kind, nd.up, st.Height, st.Round, st.Step, st.LockedRound, st.LockedBlock, st.ValidRound, st.ValidBlock)
		}
	}
	return out
}

// debugHook is set only by tests.
var debugHook func(*sim, event)
