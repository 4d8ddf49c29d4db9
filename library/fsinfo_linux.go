package library

import "syscall"

// remoteFilesystem reports whether dir lies on a network or FUSE
// filesystem, where inotify sees no changes made elsewhere, and its type.
func remoteFilesystem(dir string) (remote bool, kind string) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return false, ""
	}
	_, remote = remoteFS[int64(uint32(st.Type))]
	return remote, fsKind(int64(uint32(st.Type)))
}
