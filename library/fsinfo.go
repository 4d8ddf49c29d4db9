package library

import "fmt"

// Filesystems whose changes inotify does not see: a change made on the
// server or by another client sends no event. Values are statfs f_type
// magic numbers (linux/magic.h and the filesystems' sources).
var remoteFS = map[int64]string{
	0x6969:     "nfs",
	0x517B:     "smb",
	0xFF534D42: "cifs",
	0xFE534D42: "smb2",
	0x65735546: "fuse",
	0x01021997: "9p",
	0x00C36400: "ceph",
	0x5346414F: "afs",
	0x6B414653: "kafs",
	0x73757245: "coda",
	0x564C:     "ncp",
	0x7461636F: "ocfs2",
	0x01161970: "gfs2",
	0x0BD00BD0: "lustre",
	0x786F4256: "vboxsf",
	0x7C7C6673: "prl_fs",
	0x13661366: "glusterfs",
	0x47504653: "gpfs",
	0xAAD7AAEA: "panfs",
	0x19830326: "fhgfs",
}

// fsKind names the filesystem type magic for logs.
func fsKind(magic int64) string {
	if n, ok := remoteFS[magic]; ok {
		return n
	}
	return fmt.Sprintf("0x%x", magic)
}
