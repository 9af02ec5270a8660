//go:build !unix

package server

// dirLock is a no-op where flock is unavailable; psgate serve is supported
// on Unix-like systems, and the connector (which runs anywhere) never
// locks a data directory.
type dirLock struct{}

func lockDir(string) (*dirLock, error) { return &dirLock{}, nil }

func (*dirLock) release() {}
