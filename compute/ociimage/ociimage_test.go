package ociimage

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/inferd/inferd/compute/container"
)

func spec(data string) Spec {
	return Spec{
		Files:  []File{{Path: "/bin/app", Mode: 0o755, Data: []byte(data)}, {Path: "/etc/app/conf", Mode: 0o644, Data: []byte("x=1\n")}},
		Dirs:   []string{"/in", "/out", "/tmp"},
		Config: Config{Entrypoint: []string{"/bin/app"}, Cmd: []string{"serve"}, ExposedPorts: []string{"8080/tcp"}},
	}
}

func archive(t *testing.T, s Spec) []byte {
	t.Helper()
	img, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteArchive(&b, img, "localhost/app:test"); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestDeterministic: the same inputs give the same bytes (so the same
// CID), a changed file gives other bytes, and the archive is one that
// compute/container accepts, with the files, modes and config asked for.
func TestDeterministic(t *testing.T) {
	a, b := archive(t, spec("binary v1")), archive(t, spec("binary v1"))
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of the same spec differ")
	}
	if bytes.Equal(a, archive(t, spec("binary v2"))) {
		t.Fatal("a changed file gives the same archive")
	}
	p := filepath.Join(t.TempDir(), "img.tar")
	if err := WriteArchiveFile(p, spec("binary v1"), "localhost/app:test"); err != nil {
		t.Fatal(err)
	}
	if onDisk, _ := os.ReadFile(p); !bytes.Equal(onDisk, a) {
		t.Fatal("WriteArchiveFile wrote other bytes than WriteArchive")
	}
	if err := container.CheckOCIArchive(p); err != nil {
		t.Fatal(err)
	}

	img, _ := Build(spec("binary v1"))
	cf, _ := img.ConfigFile()
	if !cf.Created.Time.Equal(Epoch) || cf.OS != "linux" || cf.Config.Entrypoint[0] != "/bin/app" || cf.Config.Cmd[0] != "serve" {
		t.Fatalf("config %+v", cf)
	}
	ls, _ := img.Layers()
	if len(ls) != 1 {
		t.Fatalf("%d layers", len(ls))
	}
	rc, _ := ls[0].Uncompressed()
	defer rc.Close()
	tr := tar.NewReader(rc)
	got := map[string]*tar.Header{}
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[h.Name], names = h, append(names, h.Name)
		if !h.ModTime.Equal(Epoch) || h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s: time %v owner %d:%d", h.Name, h.ModTime, h.Uid, h.Gid)
		}
	}
	want := "bin/ etc/ etc/app/ in/ out/ tmp/ bin/app etc/app/conf"
	if strings.Join(names, " ") != want {
		t.Fatalf("layer entries %q, want %q", names, want)
	}
	if got["bin/app"].Mode != 0o755 || got["tmp/"].Mode != 0o1777 {
		t.Errorf("modes: bin/app %o, tmp %o", got["bin/app"].Mode, got["tmp/"].Mode)
	}

	// index.json names the manifest by digest and ref.
	tr = tar.NewReader(bytes.NewReader(a))
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatal("no index.json")
		}
		if h.Name == "index.json" {
			var idx v1.IndexManifest
			json.NewDecoder(tr).Decode(&idx)
			d, _ := img.Digest()
			if len(idx.Manifests) != 1 || idx.Manifests[0].Digest != d || idx.Manifests[0].Annotations[RefNameAnnotation] != "localhost/app:test" {
				t.Fatalf("index %+v", idx)
			}
			break
		}
	}
}

func TestBadSpecs(t *testing.T) {
	for name, s := range map[string]Spec{
		"relative":  {Files: []File{{Path: "bin/app", Mode: 0o755}}},
		"unclean":   {Files: []File{{Path: "/bin/../app", Mode: 0o755}}},
		"twice":     {Files: []File{{Path: "/a", Mode: 0o644}, {Path: "/a", Mode: 0o644}}},
		"mode":      {Files: []File{{Path: "/a", Mode: 0o100644}}},
		"dir clash": {Files: []File{{Path: "/a", Mode: 0o644}}, Dirs: []string{"/a/b"}},
		"root dir":  {Dirs: []string{"/"}},
	} {
		if _, err := Build(s); err == nil || !strings.HasPrefix(err.Error(), "ociimage: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
