package monitor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ErrDataDirBusy is returned when another process is running a scan on the same data directory.
var ErrDataDirBusy = errors.New("data directory is in use by another afterlife process")

// lockDataDir takes an exclusive advisory lock on dir/lock for the life of the process (the kernel
// drops it when the process dies, even by kill -9). The embedded frontier relies on it: with the
// lock held no other process can hold a lease, so leases left in the file are reclaimed at once.
func lockDataDir(dir string) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	path := filepath.Join(dir, "lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("data directory lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		pid := strings.TrimSpace(string(b))
		if _, perr := strconv.Atoi(pid); perr == nil {
			return nil, fmt.Errorf("%w: %s (pid %s)", ErrDataDirBusy, dir, pid)
		}
		return nil, fmt.Errorf("%w: %s", ErrDataDirBusy, dir)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
