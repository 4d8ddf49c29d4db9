package daap

import (
	"errors"
	"io/fs"
	"os"
)

// errNotRegular is the error of opening a music or image file that has
// become a FIFO, a device or a directory.
var errNotRegular = errors.New("not a regular file")

// openRegular opens a file a request reads (a track, a folder image)
// without ever blocking, and only if it is a regular file: the path is
// checked before the open, so devices are never opened, and the open file
// after it, so a file swapped in between is caught too. The file returned
// is in blocking mode.
func openRegular(path string) (*os.File, fs.FileInfo, error) {
	if fi, err := os.Stat(path); err != nil {
		return nil, nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, nil, &fs.PathError{Op: "open", Path: path, Err: errNotRegular}
	}
	f, err := openNonblock(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = &fs.PathError{Op: "open", Path: path, Err: errNotRegular}
	}
	if err == nil {
		err = setBlocking(f)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}
