package bench

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ProcStats are the peak memory and the CPU used by one process during a
// run, read from /proc (Linux).
type ProcStats struct {
	Name       string  `json:"name"`
	PID        int     `json:"pid"`
	PeakRSSMB  float64 `json:"peak_rss_mb"`
	CPUSeconds float64 `json:"cpu_seconds"`
	CPUPercent float64 `json:"cpu_percent"` // of one core, averaged over the run
}

// Sampler polls processes' RSS until Stop.
type Sampler struct {
	mu    sync.Mutex
	procs map[int]*ProcStats
	cpu0  map[int]float64
	start time.Time
	stop  chan struct{}
	done  chan struct{}
}

// Sample starts polling the named pids every 100 ms.
func Sample(pids map[string]int) *Sampler {
	s := &Sampler{procs: map[int]*ProcStats{}, cpu0: map[int]float64{}, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	for name, pid := range pids {
		if pid > 0 {
			s.procs[pid] = &ProcStats{Name: name, PID: pid}
			s.cpu0[pid] = cpuSeconds(pid)
		}
	}
	go func() {
		defer close(s.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			s.poll()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *Sampler) poll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for pid, p := range s.procs {
		if rss := rssMB(pid); rss > p.PeakRSSMB {
			p.PeakRSSMB = rss
		}
	}
}

// Stop ends sampling and returns the stats.
func (s *Sampler) Stop() []ProcStats {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	elapsed := time.Since(s.start).Seconds()
	var out []ProcStats
	for pid, p := range s.procs {
		p.CPUSeconds = cpuSeconds(pid) - s.cpu0[pid]
		if elapsed > 0 {
			p.CPUPercent = 100 * p.CPUSeconds / elapsed
		}
		out = append(out, *p)
	}
	return out
}

// rssMB reads VmRSS of pid.
func rssMB(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				kb, _ := strconv.ParseFloat(f[0], 64)
				return kb / 1024
			}
		}
	}
	return 0
}

// cpuSeconds reads utime+stime of pid (clock ticks of 1/100 s on Linux).
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	// Fields after the command name in parentheses.
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+2:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100
}

// LoadAverage is the 1, 5 and 15 minute load average (/proc/loadavg), to
// record beside a run: the machine may be shared.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// Machine names the CPU model and the number of CPUs (/proc/cpuinfo).
func Machine() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOOS + "/" + runtime.GOARCH
	}
	model := ""
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
			break
		}
	}
	return fmt.Sprintf("%s, %d CPUs, %s/%s", model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
}
