//go:build !linux

package browser

import (
	"errors"
	"syscall"
	"time"
)

// On systems other than Linux qualcert does not launch Chromium: the process
// handling that guarantees no browser is left behind (process groups,
// Pdeathsig, /proc, pidfd) is Linux's. verify, keys, token and demo work
// everywhere; a browser run connects to a running Chromium instead.

// errLaunchUnsupported is the error of a browser launch on this system.
var errLaunchUnsupported = errors.New("launching Chromium is supported on Linux only: on this system, start Chrome with --remote-debugging-port=9222 and pass --browser-url ws://… (its DevTools WebSocket), or run qualcert in a Linux container")

func canLaunch() error { return errLaunchUnsupported }

func procAttr() *syscall.SysProcAttr { return nil }

func killAll(pid int, procs []int) {}

func awaitExit(pid int, within time.Duration) error { return nil }

// Processes lists nothing: no browser is launched on this system.
func Processes(pid int) []int { return nil }
