package content

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ipfs/boxo/files"
	unixfile "github.com/ipfs/boxo/ipld/unixfs/file"
	"github.com/ipfs/go-cid"
)

// Export writes the file or UnixFS directory c, held in the store, to
// out (which must not exist). Only regular files and directories are
// written: a symlink or special entry, or a name that would leave out
// ("..", a slash), fails the export, so content from a stranger (a
// job's outputs) cannot write outside out.
func (s *Store) Export(ctx context.Context, c cid.Cid, out string) error {
	if _, err := s.Stat(ctx, c); err != nil {
		return err
	}
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("export %s: %s exists; choose a new path", c, out)
	}
	nd, err := s.dag.Get(ctx, c)
	if err != nil {
		return fmt.Errorf("export %s: %w", c, err)
	}
	f, err := unixfile.NewUnixfsFile(ctx, s.dag, nd)
	if err != nil {
		return fmt.Errorf("export %s: %w", c, err)
	}
	defer f.Close()
	if err := writeNode(f, out); err != nil {
		return fmt.Errorf("export %s: %w", c, err)
	}
	return nil
}

func writeNode(n files.Node, p string) error {
	switch n := n.(type) {
	case files.File:
		w, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		_, err = io.Copy(w, n)
		return errors.Join(err, w.Close())
	case files.Directory:
		if err := os.Mkdir(p, 0o755); err != nil {
			return err
		}
		it := n.Entries()
		for it.Next() {
			name := it.Name()
			if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
				return fmt.Errorf("entry %q of %s is not a plain name", name, p)
			}
			if err := writeNode(it.Node(), filepath.Join(p, name)); err != nil {
				return err
			}
		}
		return it.Err()
	}
	return fmt.Errorf("%s is a symlink or special file; only files and directories are exported", p)
}
