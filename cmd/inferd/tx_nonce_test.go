package main

import (
	"strings"
	"testing"

	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/node/api"
	"github.com/inferd/inferd/node/api/apitest"
)

// A validator whose operator key is also its node's agent key: the agent's
// tx waits in the mempool with the account's next nonce when the operator
// sends one by hand. The CLI takes the next free nonce instead of being
// refused ("a tx with this nonce is pending").
func TestTxSkipsNoncesOfPendingTxs(t *testing.T) {
	clearEnv(t)
	home := t.TempDir()
	alice := testKey(t, home, "alice")
	b, url := testNode(t, alice)
	b.AutoCommit = false
	priv, _, err := loadSigner(home, "test", "alice")
	if err != nil {
		t.Fatal(err)
	}
	for n := uint64(0); n < 2; n++ { // the "agent": two txs pending
		_, raw := ledger.SignTx(apitest.ChainID, priv, n, apitest.MinFee, "agent", ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: b.Operator, Amount: 1}))
		if _, err := b.SubmitTx(raw); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"tx", "bank", "send", b.Operator.String(), "1inf", "--from", "alice", "--home", home, "--keyring-backend", "test", "--node", url, "-o", "json", "--async"}
	r := decode[broadcastResult](t, mustCLI(t, "", args...))
	if _, err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	tv := decode[api.TxView](t, mustCLI(t, "", "query", "tx", hexText(r.Hash), "--node", url, "-o", "json"))
	if tv.Body.Nonce != 2 || !tv.Result.OK {
		t.Fatalf("the CLI's tx: nonce %d ok %v, want nonce 2 after the agent's 0 and 1", tv.Body.Nonce, tv.Result.OK)
	}
	// An explicit --nonce is kept, and the error says what to do.
	_, raw := ledger.SignTx(apitest.ChainID, priv, 3, apitest.MinFee, "agent", ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: b.Operator, Amount: 1}))
	if _, err := b.SubmitTx(raw); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := cli(t, "", append(args, "--nonce", "3")...)
	if code != 1 || !strings.Contains(errOut, "pending") || !strings.Contains(errOut, "drop --nonce") {
		t.Fatalf("--nonce 3 taken: exit %d %q", code, errOut)
	}
}
