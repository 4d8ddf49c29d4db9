//go:build !linux

package announce

import "log/slog"

// watchLinks polls the interfaces (no netlink here); see links_linux.go.
func watchLinks(ch chan<- struct{}, stop <-chan struct{}, _ *slog.Logger) { pollLinks(ch, stop) }
