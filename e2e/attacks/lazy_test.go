package attacks

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	contestdemo "github.com/inferd/inferd/contest/demo"
	"github.com/inferd/inferd/contest/eval"
	"github.com/inferd/inferd/node/api"
)

// lazyNode is the devnet validator that runs internal/lazyvalidator
// instead of inferd: the last one. The other three hold 3/4 of the stake,
// above the attack contest's quorum (2/3), so rounds agree without it.
func lazyNode(n int) int { return n - 1 }

// lazyScore is what the lazy validator attests for every submission
// without fetching anything: the demo better model's accuracy, which it
// knows from elsewhere (published off-chain, or the median revealed for
// the same model in an earlier round). In the copy round every agreed
// submission is those weights or a near copy scoring the same, so its
// values are all right: only the digest betrays it.
func lazyScore() int64 {
	ev, _ := eval.Builtin("mlp-accuracy")
	v, err := ev.Evaluate(context.Background(), contestdemo.BetterModel(demoSeed), contestdemo.Dataset(demoSeed))
	if err != nil {
		panic(err)
	}
	return v
}

// lazyValidator is the lazy validator's outcome over the copy round: the
// contest pay of its attestation against an honest validator's (the same
// stake). Balances are not compared: validators' balances also move with
// emission's epoch pay, which has nothing to do with the contest.
func (cr *copyRound) lazyValidator(t *testing.T, d *devnet, contestID uint64) outcome {
	var r api.RoundResponse
	url := fmt.Sprintf("%s/contests/%d/rounds/%d?height=%d", d.info.Nodes[0].API, contestID, cr.round, cr.end)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	lazy := d.addr(d.info.Nodes[lazyNode(len(d.info.Nodes))].Moniker)
	honest := d.addr(d.info.Nodes[0].Moniker)
	var lr, hr *uint64
	var paid, earners uint64
	for _, a := range r.Attestations {
		if a.Reward > 0 {
			paid, earners = paid+a.Reward, earners+1
		}
		t.Logf("attestation by %s: revealed %v agreed %v reward %d scores %d", a.Validator, a.Revealed, a.Agreed, a.Reward, len(a.Scores))
		switch a.Validator {
		case lazy:
			lr = &a.Reward
			for i, sc := range a.Scores {
				if sc.Abstain || sc.Value != lazyScore() || len(sc.Digest) != 0 {
					t.Errorf("the lazy validator's score %d: %+v", i, sc)
				}
			}
		case honest:
			hr = &a.Reward
		}
	}
	if lr == nil || hr == nil || *hr == 0 {
		t.Fatalf("attestations of the lazy (%v) and an honest (%v) validator: %+v", lr, hr, r.Attestations)
	}
	o := outcome{attack: "lazy validator (no evaluation)",
		attacker: int64(*lr), honest: int64(*hr),
		defendedBy: "digest rule: a score without the digest a stake majority attested is a disagreement; the attestation earns nothing",
	}
	o.check = func(a int64) error {
		if a != 0 {
			return fmt.Errorf("the lazy validator was paid %d of the validators' pot, want 0", a)
		}
		return nil
	}
	if err := o.check(o.attacker); err != nil {
		t.Fatal(err)
	}
	o.exact = true
	// Its values were right: without the digest check it would have
	// shared the validators' pot as one more earner of equal stake.
	o.planted = int64(paid / (earners + 1))
	o.attackerProfits = o.attacker >= o.honest
	return o
}
