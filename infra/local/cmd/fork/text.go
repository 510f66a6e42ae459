package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// forkSection is the heading of the Makefile's last section, the fork targets, which a fork does
// not have: it cannot fork itself.
const forkSection = "##@ Forking"

// forkMakefile returns the Makefile of a fork: the same without its "##@ Forking" section (the
// last one), and without the browser targets when the fork has no page test.
func forkMakefile(src []byte, browser bool) ([]byte, error) {
	text := string(src)
	if i := strings.Index(text, "\n"+forkSection+"\n"); i >= 0 {
		text = strings.TrimRight(text[:i], "\n") + "\n"
	}
	if browser {
		return []byte(text), nil
	}
	// The paragraphs (blank-line separated) that define a browser target, and "browser" among
	// another target's prerequisites.
	var kept []string
	for _, p := range strings.SplitAfter(text, "\n\n") {
		if !browserRule.MatchString(p) {
			kept = append(kept, p)
		}
	}
	text = strings.Join(kept, "")
	text = browserPrerequisite.ReplaceAllString(text, "$1")
	if browserRule.MatchString(text) || browserPrerequisite.MatchString(text) {
		return nil, fmt.Errorf("a browser rule is left after taking them out")
	}
	return []byte(text), nil
}

var (
	// browserRule matches a rule whose target names browser (browser:, $(CACHE)/browser/...:).
	browserRule = regexp.MustCompile(`(?m)^(\.PHONY: browser$|[^\t#=\n]*\bbrowser\b[^\t#=\n]*:)`)
	// browserPrerequisite matches " browser" among a rule's prerequisites, before its ## help.
	browserPrerequisite = regexp.MustCompile(`(?m)^([A-Za-z0-9_-]+:[^=\n#]*?) browser\b`)
)

// forkCIRun returns .ci/run for a fork: without the fork check, which only this repository can
// run, and without what the page test needs (Chromium, E2E_REQUIRE_BROWSER) when the fork has no
// page test.
func forkCIRun(src []byte, browser bool) []byte {
	return dropLines(src, func(line string) bool {
		if strings.Contains(line, "fork-check") {
			return true
		}
		return !browser && (strings.Contains(line, "chromium") || strings.Contains(line, "E2E_REQUIRE_BROWSER"))
	})
}

// dropLines deletes the lines of a script that are not comments and match drop, each with the
// comment lines right above it, and then any blank line left doubled.
func dropLines(src []byte, drop func(line string) bool) []byte {
	lines := strings.SplitAfter(string(src), "\n")
	deleted := make([]bool, len(lines))
	for i, line := range lines {
		if isComment(line) || !drop(line) {
			continue
		}
		deleted[i] = true
		for k := i - 1; k >= 0 && isComment(lines[k]) && !strings.HasPrefix(lines[k], "#!"); k-- {
			deleted[k] = true
		}
	}
	var b strings.Builder
	blank := false
	for i, line := range lines {
		if deleted[i] || blank && isBlank(line) && i < len(lines)-1 {
			continue
		}
		blank = isBlank(line)
		b.WriteString(line)
	}
	return []byte(strings.TrimRight(b.String(), "\n") + "\n")
}

// forkParameters returns infra/local/parameters.json with only the parameters the fork's root
// template declares, in the order the file has them.
func forkParameters(src []byte, declared []string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(src))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("parameters.json: want a JSON object")
	}
	var b strings.Builder
	b.WriteString("{")
	n := 0
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("parameters.json: %w", err)
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, fmt.Errorf("parameters.json: %w", err)
		}
		name, _ := t.(string)
		if !slices.Contains(declared, name) {
			continue
		}
		if n > 0 {
			b.WriteString(",")
		}
		key, _ := json.Marshal(name)
		fmt.Fprintf(&b, "\n  %s: %s", key, value)
		n++
	}
	if n > 0 {
		b.WriteString("\n")
	}
	b.WriteString("}\n")
	return []byte(b.String()), nil
}

// forkGoWork returns go.work without the other services' modules.
func forkGoWork(src []byte, service string) []byte {
	return dropLines(src, func(line string) bool {
		dir := strings.TrimSpace(line)
		dir = strings.TrimPrefix(strings.TrimPrefix(dir, "use "), "./")
		return strings.HasPrefix(dir, "services/") && dir != "services/"+service
	})
}

// readme is what the fork's README.md is made from.
type readme struct {
	service     string   // jobs
	module      string   // the fork's module path
	upstreamURL string   // https://github.com/...
	commit      string   // the upstream commit the fork was made from, "" if unknown
	dirty       bool     // the upstream tree had changes not committed
	title       string   // the first heading of the service's README, without "# "
	intro       string   // its first paragraph, "" if it links elsewhere (the links are relative)
	app         string   // the nested application's logical ID (JobsApp)
	shared      []string // the shared packages kept
	pageTest    bool     // the fork keeps tests/browser
}

// text returns README.md.
func (r readme) text() []byte {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# You forked %s", r.service)
	p("")
	p("This repository is [`services/%s`](services/%s/README.md) of the reference serverless application", r.service, r.service)
	p("in Go, on its own. `make fork` made it from %s", r.upstreamURL)
	if r.commit != "" {
		changes := ""
		if r.dirty {
			changes = " (with changes not yet committed there)"
		}
		p("at commit `%s`%s.", r.commit, changes)
	}
	p("")
	p("It keeps upstream's layout, pruned to this one service, so everything generic works as it did")
	p("there: the Makefile, the local runner, the template rules, the end-to-end harness and CI. Its Go")
	p("module path is `%s`. [FORKING.md](FORKING.md) says what a fork keeps and why, what to", r.module)
	p("rename, how to add a second service and how to keep pulling fixes from upstream.")
	p("")
	p("## What you have")
	p("")
	p("```")
	p("%s the service: its code, its own template.yaml, its README", pad("services/"+r.service+"/", 23))
	p("template.yaml           the root stack: the Cognito user pool and client, the alarm topic, and")
	p("                        %s, the service nested as an AWS::Serverless::Application", r.app)
	p("shared/                 only the shared packages the service uses:")
	p("                        %s", strings.Join(r.shared, ", "))
	p("infra/local/            the local runner (a copy: FORKING.md says why), parameters.json")
	p("infra/lambda.mk         how a function is built; infra/delete-stack.sh, infra/ci/ for deploying")
	p("tests/                  template rules, sam build emulation, workflow rules, and the end-to-end")
	p("                        harness with tests/e2e/%s_test.go", r.service)
	if r.pageTest {
		p("tests/browser/          playwright-core (lockfile) for the page test")
	}
	p(".github/, .ci/run       CI: make test on every change, a stack per pull request")
	p("```")
	p("")
	p("## Run, test, deploy")
	p("")
	p("Prerequisites: Go, Java 17+ (DynamoDB Local), Node 20+ (fauxqs), GNU make, `cfn-lint` for `make lint`")
	if r.pageTest {
		p("and Debian's `chromium` for the page test; to deploy, the SAM CLI, the AWS CLI and AWS credentials.")
	} else {
		p("and, to deploy, the SAM CLI, the AWS CLI and AWS credentials.")
	}
	p("")
	p("```sh")
	p("make run                        # the service locally on stand-ins for AWS; prints API_URL")
	p("TOKEN=$(make -s token USER=alice)  # a token the local API accepts")
	p("make test                       # everything CI runs: vet, unit, lint, Lambda builds, end-to-end")
	p("make deploy STAGE=my-feature    # sam build + sam deploy of the root stack for a stage")
	p("make e2e STACK=<stack name>     # the end-to-end tests against the deployed stack")
	p("make delete STAGE=my-feature    # delete it, buckets emptied first")
	p("```")
	p("")
	p("`make help` lists every target. The first `make run` or `make test` fetches the pinned stand-ins")
	p("into `.cache/`.")
	p("")
	p("## %s", r.title)
	p("")
	if r.intro != "" {
		p("%s", r.intro)
		p("")
	}
	p("[services/%s/README.md](services/%s/README.md) goes on: the pattern, its API, how it fails safely.", r.service, r.service)
	return []byte(b.String())
}

// pad returns s followed by spaces up to width characters.
func pad(s string, width int) string {
	if len(s) >= width {
		return s
	}
	return s + strings.Repeat(" ", width-len(s))
}

// titleAndIntro returns the first heading of a service's README ("# " line) and the paragraph
// after it, or "" for the paragraph if it has a link: README.md is two folders up from the
// service's, so its relative links would point elsewhere.
func titleAndIntro(md []byte) (title, intro string) {
	paragraphs := strings.Split(strings.TrimSpace(string(md)), "\n\n")
	title = strings.TrimSpace(strings.TrimPrefix(paragraphs[0], "# "))
	if len(paragraphs) > 1 && !strings.Contains(paragraphs[1], "](") && !strings.HasPrefix(paragraphs[1], "#") {
		intro = strings.TrimSpace(paragraphs[1])
	}
	return title, intro
}
