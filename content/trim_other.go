//go:build !linux

package content

import (
	"io/fs"
	"os"
	"path/filepath"
)

func pageOutValueLog(string) {}

func dropBehind(*os.File, int64) {}

// syncDir fsyncs every file under dir (no syncfs outside Linux).
func syncDir(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
}
