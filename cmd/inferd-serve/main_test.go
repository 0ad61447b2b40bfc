package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	contestdemo "github.com/inferd/inferd/contest/demo"
)

// TestRun: bad command lines name what is wrong; batch mode writes its
// files and says what it did.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	model, data := filepath.Join(dir, "m.safetensors"), filepath.Join(dir, "d.csv")
	os.WriteFile(model, contestdemo.BetterModel(1), 0o644)
	os.WriteFile(data, contestdemo.Dataset(1), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "usage: inferd-serve"},
		{[]string{"train"}, `unknown mode "train"`},
		{[]string{"serve", "-model", filepath.Join(dir, "none")}, "mount the model"},
		{[]string{"serve", "-model", model, "-name", "a b"}, `model name "a b"`},
		{[]string{"batch", "-model", model, "-data", filepath.Join(dir, "none")}, "mount the dataset"},
	} {
		if err := run(tc.args, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.args, err, tc.want)
		}
	}
	var out bytes.Buffer
	if err := run([]string{"batch", "-model", model, "-data", data, "-out", dir}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "300 rows predicted, accuracy 930000 ppm") {
		t.Errorf("batch said %q", out.String())
	}
	for _, f := range []string{"predictions.csv", "summary.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}
