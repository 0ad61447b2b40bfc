package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// Environment variables that scripts use to pass passphrases.
const (
	envKeyringPassphrase = "INFERD_KEYRING_PASSPHRASE"
	envExportPassphrase  = "INFERD_EXPORT_PASSPHRASE"
)

// minNewPassphrase is the shortest passphrase accepted for a new key or export.
const minNewPassphrase = 8

// passSource resolves passphrases for one command invocation, in this order:
// the environment variable (if set and non-empty); a hidden prompt when stdin
// is a terminal (asked twice for a new passphrase); otherwise the next line
// of stdin (so a script can pipe one passphrase per line).
type passSource struct {
	fd    int           // the terminal's descriptor, or -1
	lines *bufio.Reader // stdin when it is not a terminal
}

func newPassSource() *passSource {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &passSource{fd: int(f.Fd())}
	}
	return &passSource{fd: -1, lines: bufio.NewReader(stdin)}
}

func (p *passSource) terminal() bool { return p.fd >= 0 }

// get returns a passphrase. what names it in prompts and errors ("the
// passphrase of key \"alice\""). A new passphrase is confirmed on a terminal
// and must be at least minNewPassphrase characters long.
func (p *passSource) get(env, what string, isNew bool) (string, error) {
	pass, err := p.read(env, what, isNew)
	if err != nil {
		return "", err
	}
	if isNew && len([]rune(pass)) < minNewPassphrase {
		return "", fmt.Errorf("%s is too short (%d characters); use at least %d", what, len([]rune(pass)), minNewPassphrase)
	}
	return pass, nil
}

func (p *passSource) read(env, what string, isNew bool) (string, error) {
	if v := os.Getenv(env); v != "" {
		return v, nil
	}
	if p.terminal() {
		pass, err := p.prompt("Enter " + what + ": ")
		if err != nil || !isNew {
			return pass, err
		}
		again, err := p.prompt("Repeat " + what + ": ")
		if err != nil {
			return "", err
		}
		if again != pass {
			return "", errors.New("the two passphrases you typed differ; run the command again")
		}
		return pass, nil
	}
	line, err := p.lines.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("no %s: stdin is not a terminal and has no more lines; set %s or pipe the passphrase as a line on stdin", what, env)
		}
		return "", fmt.Errorf("reading %s from stdin: %v", what, err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (p *passSource) prompt(msg string) (string, error) {
	fmt.Fprint(stderr, msg)
	b, err := term.ReadPassword(p.fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return "", fmt.Errorf("reading the passphrase from the terminal: %v", err)
	}
	return string(b), nil
}

// confirm asks a yes/no question on the terminal; false without a terminal.
func (p *passSource) confirm(question string) (bool, error) {
	if !p.terminal() {
		return false, nil
	}
	fmt.Fprint(stderr, question+" [y/N] ")
	// Read byte by byte so nothing beyond the answer is consumed.
	var sb strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := stdin.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				break
			}
			sb.WriteByte(buf[0])
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return false, err
		}
	}
	a := strings.ToLower(strings.TrimSpace(sb.String()))
	return a == "y" || a == "yes", nil
}
