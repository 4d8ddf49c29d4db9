//go:build !unix

package announce

func setReuse(uintptr) error { return nil }
