package content

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestExportDirectory(t *testing.T) {
	ctx := context.Background()
	s, err := OpenMemory()
	if err != nil {
		t.Skip(err)
	}
	defer s.Close()
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("alpha"), 0o644)
	os.WriteFile(filepath.Join(src, "sub", "b.bin"), make([]byte, 300<<10), 0o644)
	c, err := s.Add(ctx, src, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	if err := s.Export(ctx, c, out); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "a.txt")); string(b) != "alpha" {
		t.Fatalf("a.txt = %q", b)
	}
	if fi, err := os.Stat(filepath.Join(out, "sub", "b.bin")); err != nil || fi.Size() != 300<<10 {
		t.Fatalf("sub/b.bin: %v %v", fi, err)
	}
	if err := s.Export(ctx, c, out); err == nil {
		t.Fatal("export over an existing path")
	}
}
