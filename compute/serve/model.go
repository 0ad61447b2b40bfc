package serve

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/inferd/inferd/contest/eval/mlp"
)

// MaxModelBytes caps a model file: the safetensors header cap plus every
// element the mlp format allows, as float32.
const MaxModelBytes = mlp.MaxHeaderBytes + 8 + 4*mlp.MaxElements

// Loaded is a parsed model and its identity.
type Loaded struct {
	Model *mlp.Model
	// ID names the model in the API: "mlp-" and the first 12 hex digits
	// of the file's sha256, unless the server was given a name.
	ID     string
	SHA256 string
	Path   string
}

// LoadModel reads the model at path: a safetensors file, or a directory
// holding exactly one *.safetensors file (how an input directory CID
// mounts). Errors say what was found and what is wanted.
func LoadModel(path string) (*Loaded, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w; mount the model file (safetensors) at this path", err)
	}
	if fi.IsDir() {
		m, err := filepath.Glob(filepath.Join(path, "*.safetensors"))
		if err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
		if len(m) != 1 {
			return nil, fmt.Errorf("model: directory %s holds %d *.safetensors files, want exactly one (or give the file's path)", path, len(m))
		}
		path = m[0]
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxModelBytes+1))
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	if len(b) > MaxModelBytes {
		return nil, fmt.Errorf("model %s: larger than the %d-byte cap of the mlp format", path, MaxModelBytes)
	}
	m, err := mlp.ParseModel(b)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w (want the contest's MLP safetensors: layer<i>.weight and layer<i>.bias)", path, err)
	}
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:])
	return &Loaded{Model: m, ID: "mlp-" + h[:12], SHA256: h, Path: path}, nil
}

// validID keeps a model name printable and short.
func validID(s string) error {
	if s == "" || len(s) > 64 || strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) >= 0 {
		return fmt.Errorf("model name %q: use 1 to 64 letters, digits, '-', '_' or '.'", s)
	}
	return nil
}

// SetID names the served model id instead of its sha256 prefix.
func SetID(l *Loaded, id string) error {
	if err := validID(id); err != nil {
		return err
	}
	l.ID = id
	return nil
}
