package daap

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/daapd/daapd/internal/regfile"
)

// openRegular opens a file a request reads (a track, a cover image)
// without ever blocking, and only if it is a regular file: a FIFO or
// device swapped in for it is refused with an error wrapping
// regfile.ErrNotRegular. The path is checked before the open, so a device
// is never opened at all, and the open file after it (regfile.Open opens
// with O_NONBLOCK), so a file swapped in between is caught too. The file
// returned is back in blocking mode, for ffmpeg, which inherits it.
func openRegular(path string) (*os.File, fs.FileInfo, error) {
	if fi, err := os.Stat(path); err != nil {
		return nil, nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s: %w (%s)", path, regfile.ErrNotRegular, regfile.Kind(fi.Mode()))
	}
	f, err := regfile.Open(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = setBlocking(f)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}
