package workflows

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// repository is what the rules know about the repository the workflows run in: the make targets
// its Makefile defines and the ones its README documents. Both are read from the files, never
// copied here, so a target the README stops documenting is refused at once.
type repository struct {
	targets    map[string]bool // defined in the Makefile
	documented map[string]bool // `make <target>` appears in the README
}

// makeRule matches a rule line of a Makefile, "target [target...]:", and not an assignment
// ("NAME := value"). Targets built from variables ($(STANDINS)/...) and special ones (.PHONY)
// start with $ or . and are left out: a workflow names neither.
var makeRule = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9_.%/-]*(?:\s+[A-Za-z0-9][A-Za-z0-9_.%/-]*)*)\s*:(?:[^=]|$)`)

// documentedTarget matches "make <target>" in prose or in a code block.
var documentedTarget = regexp.MustCompile(`\bmake\s+([a-z][a-z0-9_-]*)`)

// loadRepository reads the Makefile and README at the given paths.
func loadRepository(makefile, readme string) (*repository, error) {
	mk, err := os.ReadFile(makefile)
	if err != nil {
		return nil, err
	}
	doc, err := os.ReadFile(readme)
	if err != nil {
		return nil, err
	}
	r := &repository{targets: map[string]bool{}, documented: map[string]bool{}}
	lines := bufio.NewScanner(bytes.NewReader(mk))
	for lines.Scan() {
		if m := makeRule.FindStringSubmatch(lines.Text()); m != nil {
			for _, t := range strings.Fields(m[1]) {
				r.targets[t] = true
			}
		}
	}
	if err := lines.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", makefile, err)
	}
	if len(r.targets) == 0 {
		return nil, fmt.Errorf("%s: no targets found", makefile)
	}
	for _, m := range documentedTarget.FindAllStringSubmatch(string(doc), -1) {
		r.documented[m[1]] = true
	}
	return r, nil
}
