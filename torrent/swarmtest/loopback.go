package swarmtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// PIDs returns the process ids of every daemon of the swarm (the `timeout` wrappers and their
// children: every process in their process groups).
func (s *Swarm) PIDs() []int {
	s.mu.Lock()
	groups := map[int]bool{}
	for _, p := range s.procs {
		groups[p.cmd.Process.Pid] = true
	}
	s.mu.Unlock()
	var out []int
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces, so split after the last ')'.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 {
			continue
		}
		pgrp, _ := strconv.Atoi(f[2])
		if groups[pgrp] {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(st)))
			out = append(out, pid)
		}
	}
	return out
}

// Sockets lists the sockets (TCP and UDP) of the given processes as "proto local-address" with
// `ss -Htunap`.
func Sockets(ctx context.Context, pids []int) ([]string, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, "ss", "-Htunap").Output()
	if err != nil {
		return nil, fmt.Errorf("ss: %w", err)
	}
	var res []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 7 {
			continue
		}
		for _, pid := range pids {
			if strings.Contains(line, "pid="+strconv.Itoa(pid)+",") {
				res = append(res, f[0]+" "+f[4])
				break
			}
		}
	}
	return res, nil
}

// IsLoopback says whether an ss local address (127.0.0.1:p, 127.0.0.1%lo:p, [::1]:p) is loopback.
func IsLoopback(addr string) bool {
	for _, p := range []string{"127.", "[::1]", "[::ffff:127."} {
		if strings.HasPrefix(addr, p) {
			return true
		}
	}
	return false
}
