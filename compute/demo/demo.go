// Package demo holds the devnet's demo job: a tiny WebAssembly workload
// (upper.wat, built to upper.wasm) and its input, so that a new devnet
// shows a job submitted, assigned, run, paid and burned.
package demo

import _ "embed"

// Workload is upper.wasm: a WASI command that copies stdin to stdout with
// ASCII letters upper-cased.
//
//go:embed upper.wasm
var Workload []byte

// Input is the demo job's input.
var Input = []byte("inference is a network that pays the people who move open ai forward\n")
