package compute

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"testing"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

func TestRegisterUpdateUnregister(t *testing.T) {
	n := newNet(t, testParams, 1, 2)
	a := n.accts[0]
	bal := n.balance(a.addr)
	mustFail(t, n.block(n.tx(a, register(10, 6, 1, 2*ledger.UinfPerINF))), ErrBadTier)
	mustFail(t, n.block(n.tx(a, register(10, 0, 0, 2*ledger.UinfPerINF))), ErrBadCapacity)
	mustFail(t, n.block(n.tx(a, register(0, 0, 1, 2*ledger.UinfPerINF))), ErrBadPrice)
	mustFail(t, n.block(n.tx(a, register(10, 0, 1, 999_999))), ErrBondTooLow)
	mustFail(t, n.block(n.tx(a, register(10, 0, 1, 2*acctBalance))), ledger.ErrInsufficientFunds)
	mustOK(t, n.block(n.tx(a, register(10, 2, 3, 2*ledger.UinfPerINF))))
	mustFail(t, n.block(n.tx(a, register(10, 0, 1, 2*ledger.UinfPerINF))), ErrProviderExists)
	if got := n.balance(a.addr); got != bal-2*ledger.UinfPerINF-7*testFee {
		t.Fatalf("balance %d", got)
	}
	mustOK(t, n.block(n.tx(a, ledger.NewMsg(MsgTypeUpdate, MsgUpdate{Price: 12, Tier: 1, Capacity: 4, AddBond: 1000}))))
	p := n.provider(a.addr)
	if p.Price != 12 || p.Tier != 1 || p.Capacity != 4 || p.Bond != 2*ledger.UinfPerINF+1000 {
		t.Fatalf("after update: %+v", p)
	}
	mustFail(t, n.block(n.tx(n.accts[1], ledger.NewMsg(MsgTypeUpdate, MsgUpdate{Price: 12, Tier: 1, Capacity: 4}))), ErrUnknownProvider)
	mustOK(t, n.block(n.tx(a, ledger.NewMsg(MsgTypeUnregister, MsgUnregister{}))))
	p = n.provider(a.addr)
	if !p.Unbonding() || p.UnbondAt != n.height+6 {
		t.Fatalf("unbonding: %+v", p)
	}
	mustFail(t, n.block(n.tx(a, ledger.NewMsg(MsgTypeUnregister, MsgUnregister{}))), ErrUnbonding)
	mustFail(t, n.block(n.tx(a, register(10, 0, 1, 2*ledger.UinfPerINF))), ErrProviderExists)
	before := n.balance(a.addr)
	n.blocksTo(p.UnbondAt)
	if got := n.balance(a.addr); got != before+p.Bond {
		t.Fatalf("bond not returned: %d -> %d (bond %d)", before, got, p.Bond)
	}
	var left []ProviderInfo
	n.query(func(ctx *ledger.Context) { left = n.cm.Providers(ctx) })
	if len(left) != 0 {
		t.Fatalf("provider still listed: %+v", left)
	}
	mustOK(t, n.block(n.tx(a, register(10, 0, 1, 2*ledger.UinfPerINF))))
}

func TestUnregisterRefusedWithRunningJobs(t *testing.T) {
	n := newNet(t, testParams, 1, 2)
	a, user := n.accts[0], n.accts[1]
	mustOK(t, n.block(n.tx(a, register(10, 0, 1, 2*ledger.UinfPerINF))))
	mustOK(t, n.block(n.tx(user, submit(wasmCID, inputCID, 1, 10))))
	mustFail(t, n.block(n.tx(a, ledger.NewMsg(MsgTypeUnregister, MsgUnregister{}))), ErrBusy)
}

func TestProvidersJSONHasVerifiedOps(t *testing.T) {
	n := newNet(t, testParams, 1, 1)
	mustOK(t, n.block(n.tx(n.accts[0], register(10, 0, 1, 2*ledger.UinfPerINF))))
	var ps []ProviderInfo
	n.query(func(ctx *ledger.Context) { ps = n.cm.Providers(ctx) })
	raw, err := json.Marshal(ps)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"verified_ops":0`, `"price":10`, `"capacity":1`, `"uptime":0`, `"bond":2000000`, `"n":256`, `"status":"active"`} {
		if !bytes.Contains(raw, []byte(k)) {
			t.Fatalf("%s missing in %s", k, raw)
		}
	}
}

func TestParamsGovernable(t *testing.T) {
	cases := []struct {
		key, value string
		ok         bool
	}{
		{"rows_checked", "32", true},
		{"rows_checked", "0", false},
		{"rows_checked", "65", false},
		{"commit_deadline_blocks", "95", false}, // must stay below attest_deadline_blocks (90)
		{"slash_wrong_row_ppm", "1000001", false},
		{"max_assign_per_block", "0", false},
		{"no_such_param", "1", false},
	}
	for _, c := range cases {
		_, err := ledger.ApplyParamJSON(DefaultParams(), c.key, json.RawMessage(c.value))
		if (err == nil) != c.ok {
			t.Errorf("%s=%s: err %v", c.key, c.value, err)
		}
	}
}

// TestNoEscrowOutlivesDeadline is a seeded property test: random providers
// (some that never report), random jobs with random max prices, random
// results; after every block the harness checks that no open or assigned
// job is at or past its deadline, that escrow equals the sum over live
// jobs, and the supply invariant.
func TestNoEscrowOutlivesDeadline(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		r := rand.New(rand.NewSource(seed))
		n := newNet(t, `{"min_bond":1000,"job_deadline_blocks":6,"job_min_run_blocks":2,"max_assign_per_block":3,"reexec_ppm":300000,"reexec_window_blocks":2,"epoch_blocks":7,"commit_deadline_blocks":2,"attest_deadline_blocks":5}`, 1, 6)
		provs, users := n.accts[:4], n.accts[4:]
		var txs [][]byte
		for i, p := range provs {
			txs = append(txs, n.tx(p, register(uint64(10+10*i), 0, uint32(1+i%2), 2000+uint64(r.Intn(1000)))))
		}
		mustOK(t, n.block(txs...))
		for b := 0; b < 60; b++ {
			txs = nil
			for _, u := range users {
				if r.Intn(2) == 0 {
					txs = append(txs, n.tx(u, submit(wasmCID, inputCID, 1, uint64(5+r.Intn(50)))))
				}
			}
			var assigned, sealed []Job
			n.query(func(ctx *ledger.Context) { assigned, sealed = n.cm.Jobs(ctx, JobAssigned), n.cm.Jobs(ctx, JobSealed) })
			for _, j := range append(assigned, sealed...) {
				if j.Provider == provs[3].addr || r.Intn(3) > 0 { // provider 3 never reports
					continue
				}
				for _, p := range provs {
					switch {
					case p.addr != j.Provider:
					case j.Status == JobAssigned:
						txs = append(txs, n.sealResult(p, j.ID, testCID("out")))
					case r.Intn(4) > 0: // some sealed results are never revealed: missed
						txs = append(txs, n.revealResult(p, j.ID, testCID("out")))
					}
				}
			}
			n.block(txs...)
		}
		n.blocksTo(n.height + 10)
		var open []Job
		n.query(func(ctx *ledger.Context) {
			open = append(append(n.cm.Jobs(ctx, JobOpen), n.cm.Jobs(ctx, JobAssigned)...), n.cm.Jobs(ctx, JobSealed)...)
		})
		if len(open) != 0 {
			t.Fatalf("seed %d: %d jobs still hold escrow after every deadline passed", seed, len(open))
		}
		if p := n.provider(provs[3].addr); p.Downtime == 0 {
			t.Fatalf("seed %d: the provider that never reports has no downtime", seed)
		}
	}
}

// TestReregisteredProviderDoesNotInheritItsRound: a governance change
// shortens epoch_blocks and unbonding_blocks mid-epoch (the current epoch
// keeps its length); a provider unregisters, and its record stays until
// the epoch closes, so registering again under the same address cannot
// happen in that epoch. If it could (before the fix: deleted after the
// new, shorter unbonding, then registered again) it inherited the old
// round and was counted down for it at the close.
func TestReregisteredProviderDoesNotInheritItsRound(t *testing.T) {
	n := newNet(t, testParams, 1, 1)
	a := n.accts[0]
	bond := uint64(2 * ledger.UinfPerINF)
	mustOK(t, n.block(n.tx(a, register(10, 0, 1, bond))))
	e := n.nextEpoch()
	if _, err := n.challenge(a.addr); err != nil {
		t.Fatalf("no round: %v", err)
	}
	n.mint.hook = func(ctx *ledger.Context) {
		p := n.cm.Params(ctx)
		p.EpochBlocks, p.CommitDeadlineBlocks, p.AttestDeadlineBlocks, p.UnbondingBlocks, p.ReexecWindowBlocks = 3, 1, 2, 3, 2
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		ctx.SetObj(keyParams, p)
	}
	mustOK(t, n.block(n.tx(a, ledger.NewMsg(MsgTypeUnregister, MsgUnregister{}))))
	if p := n.provider(a.addr); p.UnbondAt < e.End {
		t.Fatalf("unbonds at %d, before its epoch ends at %d", p.UnbondAt, e.End)
	}
	// Register again as soon as the old record is gone.
	for {
		if _, ok := n.providerOK(a.addr); !ok {
			break
		}
		if n.height > e.End+10 {
			t.Fatal("never unbonded")
		}
		n.block()
	}
	mustOK(t, n.block(n.tx(a, register(10, 0, 1, bond))))
	n.blocksTo(e.End) // the old registration's epoch closed (the new one's rounds start later)
	if p := n.provider(a.addr); p.Downtime != 0 || p.Missed != 0 || p.LastOutcome != "" {
		t.Fatalf("counted down for the old registration's round: %+v", p)
	}
}

func (n *testNet) providerOK(a keys.Address) (p Provider, ok bool) {
	n.query(func(ctx *ledger.Context) { p, ok = n.cm.provider(ctx, a) })
	return p, ok
}
