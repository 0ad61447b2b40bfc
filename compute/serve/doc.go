// Package serve is the inference server a provider runs in a container
// for a lease: it loads an MLP model in the contest's safetensors format
// from a read-only mount and answers a small OpenAI-flavoured JSON API
// (GET /healthz, GET /v1/models, POST /v1/predict). Batch predicts every
// row of a dataset file into an output directory, for batch jobs.
//
// The forward pass is contest/eval/mlp's, the one the mlp-accuracy
// evaluator scores with, so a served class is the class the contest
// counted. cmd/inferd-serve is its static main.
package serve
