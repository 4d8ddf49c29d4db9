//go:build !linux

package library

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

func openRaw(name string) (readCloserAt, error) { return os.Open(name) }

// dirStater stats the entries of one folder.
type dirStater struct{ dir string }

func (d dirStater) lstat(name string) (int64, time.Time, error) {
	fi, err := os.Lstat(filepath.Join(d.dir, name))
	if err != nil {
		return 0, time.Time{}, err
	}
	return fi.Size(), fi.ModTime().UTC(), nil
}

// readDir lists a folder sorted by name and returns a stater for it.
func readDir(name string) ([]os.DirEntry, dirStater, func(), error) {
	entries, err := os.ReadDir(name)
	slices.SortFunc(entries, func(a, b os.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, dirStater{name}, func() {}, err
}

// inode is 0: the order of a folder's files on disk is unknown here.
func inode(os.DirEntry) uint64 { return 0 }

// prefetch does nothing here.
func (dirStater) prefetch(string) {}
