//go:build !linux

package library

import "os"

func openRaw(name string) (readCloserAt, error) { return os.Open(name) }
