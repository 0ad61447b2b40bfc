package consensus_test

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The scripted scenarios of testdata/*.txt, in the style of etcd-io/raft's
// interaction tests. Each block is a command, a "----" line and the output
// it produced; blocks are separated by blank lines, "#" lines are comments.
// Run with -update to regenerate the outputs after a deliberate change.
//
// Commands:
//
//	validators P0 P1 ...     create nodes with these powers and start them
//	deliver                  deliver in-flight messages until none is left
//	                         (messages matching a hold rule stay in flight)
//	hold FROM TO [KIND]      keep matching messages in flight (* = any node;
//	                         KIND: proposal, prevote, precommit)
//	release                  remove all hold rules
//	drop FROM TO [KIND]      discard matching in-flight messages
//	tick NODE|* STEP         fire the timeout of STEP of the node's current round
//	equivocate NODE TYPE B   make NODE sign a second TYPE vote, for block B
//	                         (nil or a block name), in its current round
//	limit H                  deliver only messages of heights <= H (default 1)
//	status                   print every node's position, lock and valid value
func TestInteraction(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) == 0 {
		t.Fatal("no scenarios in testdata/")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) { runScript(t, f) })
	}
}

type block struct {
	comments []string
	cmd      string
	want     []string
}

func parseScript(t *testing.T, path string) []block {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []block
	var cur block
	state := 0 // 0: before command, 1: after command, 2: in output
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case state == 0 && (strings.HasPrefix(line, "#") || line == ""):
			cur.comments = append(cur.comments, line)
		case state == 0:
			cur.cmd, state = line, 1
		case state == 1 && line == "----":
			state = 2
		case state == 1:
			t.Fatalf("%s: expected ---- after %q", path, cur.cmd)
		case line == "":
			blocks = append(blocks, cur)
			cur, state = block{}, 0
		default:
			cur.want = append(cur.want, line)
		}
	}
	if state != 0 {
		blocks = append(blocks, cur)
	}
	return blocks
}

func runScript(t *testing.T, path string) {
	blocks := parseScript(t, path)
	h := &harness{t: t}
	var out strings.Builder
	for _, b := range blocks {
		for _, c := range b.comments {
			out.WriteString(c + "\n")
		}
		h.out = nil
		h.run(b.cmd)
		if len(h.out) == 0 {
			h.out = []string{"ok"}
		}
		fmt.Fprintf(&out, "%s\n----\n%s\n\n", b.cmd, strings.Join(h.out, "\n"))
		if !*update && strings.Join(h.out, "\n") != strings.Join(b.want, "\n") {
			t.Errorf("%s: %q:\ngot:\n%s\nwant:\n%s", path, b.cmd, strings.Join(h.out, "\n"), strings.Join(b.want, "\n"))
		}
	}
	if *update {
		if err := os.WriteFile(path, []byte(strings.TrimRight(out.String(), "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const chainID = "interaction"

type hnode struct {
	m    *consensus.Machine
	addr keys.Address
	priv keys.PrivKey
	pub  keys.PubKey

	lastH uint64
	lastR int32
}

type flight struct {
	from, to int
	msg      consensus.Message
}

type rule struct {
	from, to int // -1: any
	kind     string
}

type harness struct {
	t      *testing.T
	nodes  []*hnode
	sets   []*consensus.ValidatorSet // sets[h-1] is the set of height h
	flying []flight
	holds  []rule
	limit  uint64 // messages above this height stay in flight
	out    []string
}

type detReader struct{ r *rand.Rand }

func (d detReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(d.r.Uint32())
	}
	return len(p), nil
}

func (h *harness) printf(format string, args ...any) {
	h.out = append(h.out, fmt.Sprintf(format, args...))
}

func (h *harness) nodeOf(a keys.Address) int {
	for i, n := range h.nodes {
		if n.addr == a {
			return i
		}
	}
	return -1
}

func blockName(id consensus.BlockID) string {
	if id.IsNil() {
		return "nil"
	}
	return string(id[:trimLen(id)])
}

func trimLen(id consensus.BlockID) int {
	for i, b := range id {
		if b == 0 {
			return i
		}
	}
	return len(id)
}

func blockID(name string) consensus.BlockID {
	var id consensus.BlockID
	if name != "nil" {
		copy(id[:], name)
	}
	return id
}

func (h *harness) msgString(m consensus.Message) string {
	switch m := m.(type) {
	case *consensus.Proposal:
		return fmt.Sprintf("proposal %d/%d %s pol=%d", m.Height, m.Round, blockName(m.BlockID), m.POLRound)
	case *consensus.Vote:
		return fmt.Sprintf("%s %d/%d %s", m.Type, m.Height, m.Round, blockName(m.BlockID))
	}
	return "?"
}

func kindOf(m consensus.Message) string {
	if v, ok := m.(*consensus.Vote); ok {
		return v.Type.String()
	}
	return "proposal"
}

func parseNode(s string) int {
	if s == "*" {
		return -1
	}
	n, _ := strconv.Atoi(s)
	return n
}

func (r rule) match(f flight) bool {
	return (r.from < 0 || r.from == f.from) && (r.to < 0 || r.to == f.to) && (r.kind == "" || r.kind == kindOf(f.msg))
}

func (h *harness) run(cmd string) {
	args := strings.Fields(cmd)
	switch args[0] {
	case "validators":
		r := detReader{rand.New(rand.NewPCG(1, 1))}
		var vals []consensus.Validator
		var nodes []*hnode
		for _, p := range args[1:] {
			pw, _ := strconv.ParseInt(p, 10, 64)
			pub, priv, _ := keys.Generate(r)
			nodes = append(nodes, &hnode{addr: keys.AddressOf(pub), priv: priv, pub: pub})
			vals = append(vals, consensus.Validator{Address: keys.AddressOf(pub), PubKey: pub, Power: pw})
		}
		set, err := consensus.NewValidatorSet(vals)
		if err != nil {
			h.t.Fatal(err)
		}
		h.sets = []*consensus.ValidatorSet{set}
		h.limit = 1
		// Node i is the validator at index i of the set (address order).
		h.nodes = make([]*hnode, len(nodes))
		for _, n := range nodes {
			i, _ := set.Index(n.addr)
			h.nodes[i] = n
		}
		for i := range h.nodes {
			h.printf("n%d power %d", i, set.Validator(i).Power)
		}
		for r := int32(0); r < 4; r++ {
			h.printf("proposer of round %d: n%d", r, set.ProposerIndex(r))
		}
		for i, n := range h.nodes {
			m, err := consensus.NewMachine(consensus.Config{Self: n.addr}, 1, set, nil)
			if err != nil {
				h.t.Fatal(err)
			}
			n.m, n.lastH = m, 1
			h.handle(i, m.Start())
		}
	case "deliver":
		for {
			idx := -1
			for i, f := range h.flying {
				mh, _, _ := f.msg.HRS()
				held := mh > h.limit
				for _, r := range h.holds {
					held = held || r.match(f)
				}
				if !held {
					idx = i
					break
				}
			}
			if idx < 0 {
				break
			}
			f := h.flying[idx]
			h.flying = append(h.flying[:idx], h.flying[idx+1:]...)
			if err := consensus.Verify(chainID, h.nodes[f.to].m.Validators(), f.msg); err != nil {
				h.printf("n%d rejects %s: %v", f.to, h.msgString(f.msg), err)
				continue
			}
			acts, err := h.nodes[f.to].m.Step(f.msg)
			if err != nil && !errors.Is(err, consensus.ErrOldHeight) {
				h.printf("n%d: %s from n%d: %v", f.to, h.msgString(f.msg), f.from, err)
			}
			h.handle(f.to, acts)
		}
	case "hold", "drop":
		r := rule{from: parseNode(args[1]), to: parseNode(args[2])}
		if len(args) > 3 {
			r.kind = args[3]
		}
		if args[0] == "hold" {
			h.holds = append(h.holds, r)
			return
		}
		kept := h.flying[:0]
		dropped := 0
		for _, f := range h.flying {
			if r.match(f) {
				dropped++
			} else {
				kept = append(kept, f)
			}
		}
		h.flying = kept
		h.printf("dropped %d", dropped)
	case "limit":
		l, _ := strconv.ParseUint(args[1], 10, 64)
		h.limit = l
	case "release":
		h.holds = nil
	case "tick":
		step := map[string]consensus.Step{"propose": consensus.StepPropose, "prevote": consensus.StepPrevote, "precommit": consensus.StepPrecommit}[args[2]]
		for i, n := range h.nodes {
			if args[1] == "*" || parseNode(args[1]) == i {
				acts, _ := n.m.Step(consensus.Timeout{Height: n.m.Height(), Round: n.m.Round(), Step: step})
				h.handle(i, acts)
			}
		}
	case "equivocate":
		i := parseNode(args[1])
		n := h.nodes[i]
		typ := consensus.Prevote
		if args[2] == "precommit" {
			typ = consensus.Precommit
		}
		v := &consensus.Vote{Type: typ, Height: n.m.Height(), Round: n.m.Round(), BlockID: blockID(args[3]), Validator: n.addr}
		consensus.Sign(n.priv, chainID, v)
		h.printf("n%d signs a second %s", i, h.msgString(v))
		h.broadcast(i, v)
	case "status":
		for i, n := range h.nodes {
			st := n.m.State()
			h.printf("n%d: height %d round %d step %s locked %d/%s valid %d/%s", i, st.Height, st.Round, st.Step,
				st.LockedRound, blockName(st.LockedBlock), st.ValidRound, blockName(st.ValidBlock))
		}
	default:
		h.t.Fatalf("unknown command %q", cmd)
	}
}

func (h *harness) broadcast(from int, m consensus.Message) {
	for j := range h.nodes {
		if j != from {
			h.flying = append(h.flying, flight{from, j, m})
		}
	}
}

// handle carries out node i's actions as a node would, printing them.
func (h *harness) handle(i int, acts []consensus.Action) {
	n := h.nodes[i]
	defer func() {
		if n.m.Height() != n.lastH || n.m.Round() != n.lastR {
			if n.m.Height() == n.lastH {
				h.printf("n%d: now in round %d", i, n.m.Round())
			}
			n.lastH, n.lastR = n.m.Height(), n.m.Round()
		}
	}()
	for len(acts) > 0 {
		a := acts[0]
		acts = acts[1:]
		var more []consensus.Action
		switch a := a.(type) {
		case consensus.SignAndSend:
			if err := a.State.LastSigned.Allows(a.Msg); err != nil {
				h.t.Fatalf("n%d: %v", i, err)
			}
			consensus.Sign(n.priv, chainID, a.Msg)
			h.printf("n%d: sign %s (locked %d/%s)", i, h.msgString(a.Msg), a.State.LockedRound, blockName(a.State.LockedBlock))
			h.broadcast(i, a.Msg)
			more, _ = n.m.Step(a.Msg)
		case consensus.ScheduleTimeout:
			// Timeouts are fired explicitly by "tick"; not printed, to keep outputs short.
		case consensus.RequestProposal:
			name := fmt.Sprintf("B%d.%d", a.Height, a.Round)
			h.printf("n%d: build block %s", i, name)
			more, _ = n.m.Step(consensus.ProposalBlock{Height: a.Height, Round: a.Round, BlockID: blockID(name)})
		case consensus.ValidateBlock:
			more, _ = n.m.Step(consensus.BlockValidated{Height: a.Height, BlockID: a.BlockID, Valid: true})
		case consensus.Commit:
			h.printf("n%d: COMMIT height %d round %d block %s (%d precommits)", i, a.Height, a.Round, blockName(a.BlockID), len(a.Precommits))
			var err error
			more, err = n.m.Step(consensus.NewHeight{Height: a.Height + 1, Validators: h.setFor(a.Height + 1)})
			if err != nil {
				h.t.Fatal(err)
			}
		case consensus.ReportEvidence:
			e := a.Evidence
			pub := h.nodes[h.nodeOf(e.Validator())].pub
			h.printf("n%d: EVIDENCE n%d %s at %d/%d: %s vs %s (verify: %v)", i, h.nodeOf(e.Validator()), e.VoteA.Type, e.VoteA.Height, e.VoteA.Round,
				blockName(e.VoteA.BlockID), blockName(e.VoteB.BlockID), e.Verify(chainID, pub))
		}
		acts = append(more, acts...)
	}
}

// setFor returns the set of height ht: the same validators, advanced one
// proposer increment per height as the ledger would.
func (h *harness) setFor(ht uint64) *consensus.ValidatorSet {
	for uint64(len(h.sets)) < ht {
		next, err := h.sets[len(h.sets)-1].Advance(nil)
		if err != nil {
			h.t.Fatal(err)
		}
		h.sets = append(h.sets, next)
	}
	return h.sets[ht-1]
}
