//go:build !unix

package daap

import "os"

func setBlocking(*os.File) error { return nil }
