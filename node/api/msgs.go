package api

import (
	"reflect"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/ledger/contest"
	"github.com/inferd/inferd/ledger/emission"
	"github.com/inferd/inferd/ledger/gov"
	"github.com/inferd/inferd/ledger/staking"
)

// msgTypes maps each message type this build knows to a constructor of its
// struct, so transactions can be shown decoded.
var msgTypes = map[string]func() any{
	bank.MsgTypeSend:                  func() any { return new(bank.MsgSend) },
	bank.MsgTypeMultiSend:             func() any { return new(bank.MsgMultiSend) },
	staking.MsgTypeCreateValidator:    func() any { return new(staking.MsgCreateValidator) },
	staking.MsgTypeEditValidator:      func() any { return new(staking.MsgEditValidator) },
	staking.MsgTypeDelegate:           func() any { return new(staking.MsgDelegate) },
	staking.MsgTypeUndelegate:         func() any { return new(staking.MsgUndelegate) },
	staking.MsgTypeRedelegate:         func() any { return new(staking.MsgRedelegate) },
	staking.MsgTypeUnjail:             func() any { return new(staking.MsgUnjail) },
	gov.MsgTypeSubmitProposal:         func() any { return new(gov.MsgSubmitProposal) },
	gov.MsgTypeDeposit:                func() any { return new(gov.MsgDeposit) },
	gov.MsgTypeVote:                   func() any { return new(gov.MsgVote) },
	emission.MsgTypeSetGauge:          func() any { return new(emission.MsgSetGauge) },
	contest.MsgTypeCommit:             func() any { return new(contest.MsgCommit) },
	contest.MsgTypeReveal:             func() any { return new(contest.MsgReveal) },
	contest.MsgTypeRevealDataset:      func() any { return new(contest.MsgRevealDataset) },
	contest.MsgTypeAttestCommit:       func() any { return new(contest.MsgAttestCommit) },
	contest.MsgTypeAttestReveal:       func() any { return new(contest.MsgAttestReveal) },
	compute.MsgTypeRegister:           func() any { return new(compute.MsgRegister) },
	compute.MsgTypeUpdate:             func() any { return new(compute.MsgUpdate) },
	compute.MsgTypeUnregister:         func() any { return new(compute.MsgUnregister) },
	compute.MsgTypeUnjail:             func() any { return new(compute.MsgUnjail) },
	compute.MsgTypeCommitRoot:         func() any { return new(compute.MsgCommitRoot) },
	compute.MsgTypeAttest:             func() any { return new(compute.MsgAttest) },
	compute.MsgTypeJobSubmit:          func() any { return new(compute.MsgJobSubmit) },
	compute.MsgTypeJobResult:          func() any { return new(compute.MsgJobResult) },
	compute.MsgTypeJobReexec:          func() any { return new(compute.MsgJobReexec) },
	compute.MsgTypeSetResources:       func() any { return new(compute.MsgSetResources) },
	compute.MsgTypeJobSubmitContainer: func() any { return new(compute.MsgJobSubmitContainer) },
	compute.MsgTypeJobContainerResult: func() any { return new(compute.MsgJobContainerResult) },
	compute.MsgTypeLeaseStart:         func() any { return new(compute.MsgLeaseStart) },
	compute.MsgTypeLeaseClose:         func() any { return new(compute.MsgLeaseClose) },
	compute.MsgTypeLeaseAllow:         func() any { return new(compute.MsgLeaseAllow) },
	compute.MsgTypeLeaseAttest:        func() any { return new(compute.MsgLeaseAttest) },
	compute.MsgTypeJobReexecCommit:    func() any { return new(compute.MsgJobReexecCommit) },
	compute.MsgTypeJobReexecReveal:    func() any { return new(compute.MsgJobReexecReveal) },
	compute.MsgTypeJobResultCommit:    func() any { return new(compute.MsgJobResultCommit) },
	compute.MsgTypeJobResultReveal:    func() any { return new(compute.MsgJobResultReveal) },
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
			return hexBytes(v)
		}
	}
	return rawMsg{Raw: m.Value}
}

var (
	bytesType = reflect.TypeFor[[]byte]()
	hexType   = reflect.TypeFor[ledger.HexBytes]()
)

// hexBytes shows the []byte fields of a message struct (hashes, roots,
// salts, keys) as hex, as the API shows every hash, instead of JSON's
// base64. p is a pointer to a struct; the field names and tags stay.
func hexBytes(p any) any {
	v := reflect.ValueOf(p).Elem()
	t := v.Type()
	if t.Kind() != reflect.Struct {
		return p
	}
	var fields []reflect.StructField
	changed := false
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue // the cbor toarray marker; JSON ignores it anyway
		}
		if f.Type == bytesType {
			f.Type, changed = hexType, true
		}
		fields = append(fields, f)
	}
	if !changed {
		return p
	}
	out := reflect.New(reflect.StructOf(fields)).Elem()
	for i, j := 0, 0; i < t.NumField(); i++ {
		if !t.Field(i).IsExported() {
			continue
		}
		out.Field(j).Set(v.Field(i).Convert(fields[j].Type))
		j++
	}
	return out.Interface()
}
