package eval

import (
	"crypto/sha256"
	"fmt"

	"github.com/inferd/inferd/contest/eval/mlp"
)

// Digester is an Evaluator that knows its models' format: Digest is the
// canonical digest of a model, equal for every encoding of the same
// weights (see ModelDigest). Evaluators that do not implement it (a
// WebAssembly evaluator: the ledger cannot know its format) are digested
// by FileDigest.
type Digester interface {
	Digest(model []byte) ([]byte, error)
}

// FileDigest is sha256 of a model's file bytes. The file is what a CID
// names whatever its chunking, so a model re-added with another chunker
// (or under CIDv0 / v1) has one FileDigest.
func FileDigest(model []byte) []byte {
	d := sha256.Sum256(model)
	return d[:]
}

// ModelDigest is the digest of the weights of an MLP model (the built-in
// evaluators' format): sha256 of the canonical safetensors encoding of the
// decoded tensors (mlp.Model.Encode: names sorted, header padded to 8
// bytes, no metadata), with -0 written as +0.
// So a re-serialised container (tensor order, header spacing or padding,
// __metadata__, data offsets) has the digest of the original. (NaN and
// infinities are refused by the parser.) It does
// not normalise changes of the function-preserving kind (permuted
// hidden units, rescaled ReLU units): those are near copies, left to the
// ledger's score rule.
func ModelDigest(model []byte) ([]byte, error) {
	m, err := mlp.ParseModel(model)
	if err != nil {
		return nil, fmt.Errorf("%w: model digest: %w", ErrAbstain, err)
	}
	for i := range m.Layers {
		canonFloats(m.Layers[i].Weight)
		canonFloats(m.Layers[i].Bias)
	}
	return FileDigest(m.Encode()), nil
}

func canonFloats(xs []float32) {
	for i, x := range xs {
		if x == 0 {
			xs[i] = 0 // -0 too: a flipped sign bit is the same weight
		}
	}
}

// Digest is ModelDigest: every built-in evaluator reads mlp models.
func (b builtinEval) Digest(model []byte) ([]byte, error) { return ModelDigest(model) }
