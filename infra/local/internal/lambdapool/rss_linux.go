package lambdapool

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// residentBytes returns the resident set size of process pid, from the VmRSS line of
// /proc/<pid>/status. It covers that process only, not its children.
func residentBytes(pid int) (int64, error) {
	if pid <= 0 {
		return 0, fmt.Errorf("read resident memory: process not started")
	}
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("read resident memory of %d: %w", pid, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		// VmRSS:	   12345 kB
		fields := bytes.Fields(sc.Bytes())
		if len(fields) == 3 && string(fields[0]) == "VmRSS:" && string(fields[2]) == "kB" {
			kb, err := strconv.ParseInt(string(fields[1]), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read resident memory of %d: %w", pid, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("read resident memory of %d: no VmRSS line (a zombie?)", pid)
}
