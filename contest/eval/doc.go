// Package eval scores contest submissions: it runs an evaluator over a
// model and a dataset and returns the score in micro-units (score × 10⁶,
// rounded to the nearest integer) so the ledger stays integer.
//
// # Built-in evaluators
//
//   - "mlp-accuracy": the model's outputs are class logits; the score is
//     the share of dataset rows whose label is the index of the largest
//     logit (ties go to the lowest index). Labels are class indices
//     0..outputs-1. Higher is better: 0.8125 scores 812500.
//   - "mlp-mse": the model has one output; the score is the mean squared
//     error against the label. Lower is better.
//
// # Model format
//
// A safetensors file (8-byte little-endian header length, a JSON header
// {name: {"dtype", "shape", "data_offsets"}} with optional "__metadata__",
// then the raw little-endian data) holding a multi-layer perceptron: F32
// tensors layer<i>.weight of shape [out_i, in_i] and layer<i>.bias of shape
// [out_i] for i = 0..L-1, nothing else; 1 <= L <= 8, every dimension
// 1..4096, at most 4,194,304 parameters, in_{i+1} = out_i. The model
// computes x -> W_0·x+b_0 -> ReLU -> W_1·...+b_1 -> ... -> W_{L-1}·...+b_{L-1}
// (no ReLU after the last layer). Parsing is strict: the tensors must tile
// the data buffer exactly, keys are exact and unique, values finite.
//
// # Dataset format
//
// CSV, UTF-8, "\n" or "\r\n" line endings, "," separators, no quoting. Line
// 1 is the header: the feature names, then "label". Each following line is
// a row of finite decimal numbers, as many as header fields. At least one
// row, no blank lines, at most 1,048,576 rows, 4096 features and 64 MiB.
// Example:
//
//	x,y,label
//	0.25,-1.5,2
//	1,0.75,0
//
// # WebAssembly evaluators
//
// A WASI preview1 command (e.g. a Go program built with GOOS=wasip1
// GOARCH=wasm; see examples/accuracy). It reads the model from the file
// /model and the dataset from /dataset (both read-only), and prints the
// score as one decimal number, e.g. "0.8125", optionally followed by one
// newline, on standard output, then exits 0. It gets no arguments, no
// environment, no network, a fake clock fixed at 2000-01-01 and a fixed
// "random" stream, so every validator computes the same score. Standard
// error is ignored. Memory, time and output are capped (wasmrun.Limits).
//
// # Abstaining
//
// Every error Evaluate returns wraps ErrAbstain: the validator attests no
// score. A malformed model or dataset also wraps mlp.ErrBadModel or
// mlp.ErrBadDataset; an evaluator that breaks a cap, traps, exits non-zero
// or prints anything but a number also wraps the wasmrun sentinel.
package eval
