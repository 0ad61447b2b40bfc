// Package jobspec is the job spec of the Inference Cloud: what a user writes
// (TOML) to run a container on a provider's machine, its validation, and its
// canonical encoding (codec/, deterministic CBOR) for putting it on-chain.
//
// Parse turns TOML into a Spec and reports every bad field at once, each
// with its path and what is expected (an Errors value). Encode and Decode
// give the one canonical byte form; Decode validates what it decodes. A Spec
// holds no floats: cores are millicores, sizes bytes, the time limit
// seconds, prices uinf. Pure functions, safe for concurrent use.
package jobspec
