//go:build !linux

package library

// remoteFilesystem is only known on Linux; elsewhere every filesystem is
// trusted to send events, and the periodic rescan covers the rest.
func remoteFilesystem(dir string) (remote bool, kind string) { return false, "" }
