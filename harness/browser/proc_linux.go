//go:build linux

package browser

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Process handling of a launched Chromium, on Linux: its own process group,
// Pdeathsig so that it dies with qualcert, a kill of the group and of every
// descendant found in /proc, and an exit awaited on a pidfd. Other systems
// get proc_other.go: they connect to a running browser (--browser-url) only.

// canLaunch reports whether this system can launch Chromium itself.
func canLaunch() error { return nil }

// procAttr starts Chromium in its own process group, killed with qualcert.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killAll sends SIGKILL to the process group of pid and to each of procs.
func killAll(pid int, procs []int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	for _, p := range procs {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
}

// awaitExit waits until process pid has exited (or is a zombie), on a pidfd
// that becomes readable when it does: an event, not polling.
func awaitExit(pid int, within time.Duration) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return nil // already gone
		}
		return fmt.Errorf("watching its exit: %w", err)
	}
	defer unix.Close(fd)
	for {
		ms := int(within.Milliseconds())
		if ms <= 0 {
			return errors.New("still running after SIGKILL")
		}
		start := time.Now()
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, ms)
		switch {
		case err == nil && n > 0:
			return nil
		case err == nil:
			return errors.New("still running after SIGKILL")
		case !errors.Is(err, unix.EINTR):
			return fmt.Errorf("watching its exit: %w", err)
		}
		within -= time.Since(start)
	}
}

// Processes lists the live processes that belong to the browser launched as
// pid: its process group and its descendants (read from /proc). Zombies
// are not counted. It is what the tests use to prove a clean shutdown.
func Processes(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	type stat struct{ ppid, pgrp int }
	all := map[int]stat{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// comm may contain spaces: fields start after the last ')'.
		s := string(raw)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		pgrp, _ := strconv.Atoi(f[2])
		all[p] = stat{ppid, pgrp}
	}
	in := map[int]bool{}
	if _, ok := all[pid]; ok {
		in[pid] = true
	}
	for p, st := range all {
		if st.pgrp == pid {
			in[p] = true
		}
	}
	for changed := true; changed; {
		changed = false
		for p, st := range all {
			if !in[p] && in[st.ppid] {
				in[p] = true
				changed = true
			}
		}
	}
	out := make([]int, 0, len(in))
	for p := range in {
		out = append(out, p)
	}
	return out
}
