package main

import (
	"errors"
	"fmt"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/keys/keystore"
)

// envMnemonic passes the mnemonic of keys add --recover in scripts.
const envMnemonic = "INFERD_MNEMONIC"

type keysAddFlags struct{ recover, noBackup bool }

// keysAddJSON is keys add -o json: the key, and its mnemonic when new.
type keysAddJSON struct {
	keysInfoJSON
	Mnemonic string `json:"mnemonic,omitempty"`
}

func runKeysAdd(a *keysArgs, name string, f *keysAddFlags) error {
	kr, err := a.open(name)
	if err != nil {
		return err
	}
	if err := keysEnsureFree(kr, name); err != nil {
		return a.explain(err, name)
	}
	ps := newPassSource()
	var mnemonic string
	if f.recover {
		if mnemonic, err = ps.read(envMnemonic, fmt.Sprintf("the BIP-39 mnemonic of key %q", name), false); err != nil {
			return err
		}
	} else if mnemonic, err = keys.NewMnemonic(); err != nil {
		return err
	}
	priv, err := keys.FromMnemonic(mnemonic, "")
	if errors.Is(err, keys.ErrBadMnemonic) {
		return usagef("--recover: %v: want 12 to 24 words of the English BIP-39 list with a valid checksum; check each word and their order", err)
	}
	if err != nil {
		return err
	}
	pass := ""
	if kr.Backend() == keystore.BackendFile {
		if pass, err = ps.get(envKeyringPassphrase, fmt.Sprintf("the passphrase for new key %q", name), true); err != nil {
			return err
		}
	}
	info, err := kr.ImportKey(name, priv, pass)
	if err != nil {
		return a.explain(err, name)
	}
	show := !f.recover && !f.noBackup
	if a.output == "json" {
		out := keysAddJSON{keysInfoJSON: keysToJSON(info)}
		if show {
			out.Mnemonic = mnemonic
		}
		return keysPrintJSON(out)
	}
	if err := a.printInfo(info); err != nil {
		return err
	}
	if show {
		fmt.Fprintf(stderr, "\nWrite this mnemonic down and keep it secret: it is the only way to recover the key (inferd keys add %s --recover).\n\n%s\n\n", name, mnemonic)
	}
	keysBackupNote(info)
	return nil
}
