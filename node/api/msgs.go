package api

import (
	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/emission"
	"github.com/inferd/inferd/ledger/gov"
	"github.com/inferd/inferd/ledger/staking"
)

// msgTypes maps each message type this build knows to a constructor of its
// struct, so transactions can be shown decoded.
var msgTypes = map[string]func() any{
	bank.MsgTypeSend:               func() any { return new(bank.MsgSend) },
	bank.MsgTypeMultiSend:          func() any { return new(bank.MsgMultiSend) },
	staking.MsgTypeCreateValidator: func() any { return new(staking.MsgCreateValidator) },
	staking.MsgTypeEditValidator:   func() any { return new(staking.MsgEditValidator) },
	staking.MsgTypeDelegate:        func() any { return new(staking.MsgDelegate) },
	staking.MsgTypeUndelegate:      func() any { return new(staking.MsgUndelegate) },
	staking.MsgTypeRedelegate:      func() any { return new(staking.MsgRedelegate) },
	staking.MsgTypeUnjail:          func() any { return new(staking.MsgUnjail) },
	gov.MsgTypeSubmitProposal:      func() any { return new(gov.MsgSubmitProposal) },
	gov.MsgTypeDeposit:             func() any { return new(gov.MsgDeposit) },
	gov.MsgTypeVote:                func() any { return new(gov.MsgVote) },
	emission.MsgTypeSetGauge:       func() any { return new(emission.MsgSetGauge) },
}

// rawMsg is how a message of an unknown type (or one that does not decode)
// is shown.
type rawMsg struct {
	Raw []byte `json:"raw"`
}

func decodeMsg(m ledger.Msg) any {
	if f, ok := msgTypes[m.Type]; ok {
		v := f()
		if codec.Unmarshal(m.Value, v) == nil {
			return v
		}
	}
	return rawMsg{Raw: m.Value}
}
