package workflows

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// rule is one of the workflow rules: its name (the test that enforces it is "Test" + name) and
// the check that lists a workflow's violations of it.
type rule struct {
	name  string
	check func(w *workflow, repo *repository) []string
}

// allRules returns every rule, in the order README.md lists them.
func allRules() []rule {
	return []rule{
		{name: "ActionsArePinnedToCommits", check: checkActionsArePinnedToCommits},
		{name: "NoPullRequestTarget", check: checkNoPullRequestTarget},
		{name: "PermissionsArePerJob", check: checkPermissionsArePerJob},
		{name: "MakeTargetsAreDocumented", check: checkMakeTargetsAreDocumented},
		{name: "SecretsAreNeverPrinted", check: checkSecretsAreNeverPrinted},
	}
}

// stepAt names a step the way the violations do.
func stepAt(j job, i int) string {
	return fmt.Sprintf("jobs.%s.steps[%d]", j.id, i)
}

var (
	// pinnedAction is owner/repo[/path]@<full commit SHA>: a tag or branch can be moved to other
	// code after review; a commit cannot.
	pinnedAction = regexp.MustCompile(`^[^@\s]+@[0-9a-f]{40}$`)
	// pinnedImage is a Docker image by digest.
	pinnedImage = regexp.MustCompile(`^docker://[^@\s]+@sha256:[0-9a-f]{64}$`)
)

// checkActionsArePinnedToCommits: every action or reusable workflow from another repository is
// named by a full 40-hex commit SHA (a comment may give the release), and every Docker image by
// digest. Local ones (./...) are part of the change under review.
func checkActionsArePinnedToCommits(w *workflow, _ *repository) []string {
	var out []string
	pinned := func(uses string) bool {
		switch {
		case strings.HasPrefix(uses, "./"):
			return true
		case strings.HasPrefix(uses, "docker://"):
			return pinnedImage.MatchString(uses)
		}
		return pinnedAction.MatchString(uses)
	}
	for _, j := range w.jobs {
		if j.uses != "" && !pinned(j.uses) {
			out = append(out, fmt.Sprintf("jobs.%s: uses %q, which is not pinned to a commit SHA", j.id, j.uses))
		}
		for i, s := range j.steps {
			if s.uses != "" && !pinned(s.uses) {
				out = append(out, fmt.Sprintf("%s: uses %q, which is not pinned to a commit SHA", stepAt(j, i), s.uses))
			}
		}
	}
	return out
}

// checkNoPullRequestTarget: no workflow runs on pull_request_target, which runs in the base
// repository's context (its secrets, a write token, OIDC) for pull requests from forks too.
func checkNoPullRequestTarget(w *workflow, _ *repository) []string {
	if slices.Contains(w.events, "pull_request_target") {
		return []string{"on: pull_request_target runs with this repository's secrets and token for anyone's pull request; use pull_request"}
	}
	return nil
}

// roleAction is the action that assumes an AWS role with the job's OIDC token.
const roleAction = "aws-actions/configure-aws-credentials@"

// checkPermissionsArePerJob: the workflow sets permissions at the top level and grants no write
// there ({} or read scopes: writes belong on the job that needs them), and a job has
// id-token: write (an OIDC token, so an AWS role) only if one of its steps assumes a role.
func checkPermissionsArePerJob(w *workflow, _ *repository) []string {
	var out []string
	switch {
	case w.permissions == nil:
		out = append(out, "permissions: not set at the top level, so every job gets the repository's default token permissions; set {} or contents: read")
	case len(w.permissions.writtenScopes()) > 0:
		out = append(out, fmt.Sprintf("permissions: grants %s to every job at the top level; grant writes on the job that needs them", strings.Join(w.permissions.writtenScopes(), ", ")))
	}
	for _, j := range w.jobs {
		if !j.permissions.writes("id-token") {
			continue
		}
		if j.uses != "" {
			out = append(out, fmt.Sprintf("jobs.%s: id-token: write for the reusable workflow %s, whose steps this rule cannot see", j.id, j.uses))
			continue
		}
		assumes := slices.ContainsFunc(j.steps, func(s step) bool { return strings.HasPrefix(s.uses, roleAction) })
		if !assumes {
			out = append(out, fmt.Sprintf("jobs.%s: id-token: write, but no step assumes a role (%s)", j.id, strings.TrimSuffix(roleAction, "@")))
		}
	}
	return out
}

// checkMakeTargetsAreDocumented: a script runs make only with targets the Makefile defines and
// the README documents (`make <target>`), so CI does what a reader of the README can do, and only
// with the repository's own Makefile.
func checkMakeTargetsAreDocumented(w *workflow, repo *repository) []string {
	var out []string
	for _, j := range w.jobs {
		for i, s := range j.steps {
			for _, call := range makeCalls(s.run) {
				at := stepAt(j, i)
				if call.other != "" {
					out = append(out, fmt.Sprintf("%s: %q uses %s, so it runs another Makefile than the repository's", at, call.command, call.other))
				}
				if len(call.targets) == 0 {
					out = append(out, fmt.Sprintf("%s: %q names no target; name one the README documents", at, call.command))
				}
				for _, t := range call.targets {
					switch {
					case !repo.targets[t]:
						out = append(out, fmt.Sprintf("%s: make %s: the Makefile has no target %s", at, t, t))
					case !repo.documented[t]:
						out = append(out, fmt.Sprintf("%s: make %s: the README does not document make %s", at, t, t))
					}
				}
			}
		}
	}
	return out
}

// secretExpression matches an expression that holds a secret: ${{ secrets.X }}, or the job's
// token (${{ github.token }}, which is secrets.GITHUB_TOKEN).
var secretExpression = regexp.MustCompile(`\$\{\{[^}]*\b(secrets\.|github\.token\b)`)

// printers are the commands that write their arguments, or the whole environment, to the log.
var printers = map[string]bool{"echo": true, "printf": true, "printenv": true, "env": true}

// checkSecretsAreNeverPrinted: a secret reaches a script only through env: (an expression inside
// run: becomes part of the script GitHub writes to disk, and is exposed to injection), and no
// command prints a secret: no echo or printf of a variable that env: fills from a secret, and no
// printenv or env listing the environment of a step that has one. GitHub masks the secrets it
// knows in logs, but not every transformation of them (a base64 of one, a substring).
func checkSecretsAreNeverPrinted(w *workflow, _ *repository) []string {
	var out []string
	for _, j := range w.jobs {
		for i, s := range j.steps {
			if s.run == "" {
				continue
			}
			at := stepAt(j, i)
			for _, e := range expression.FindAllString(s.run, -1) {
				if secretExpression.MatchString(e) {
					out = append(out, fmt.Sprintf("%s: run expands %s into the script; pass it in env:", at, e))
				}
			}
			// Variables that env: fills from a secret, at any level the step sees.
			var secretVars []string
			for _, env := range []map[string]string{w.env, j.env, s.env} {
				for name, value := range env {
					if secretExpression.MatchString(value) {
						secretVars = append(secretVars, name)
					}
				}
			}
			slices.Sort(secretVars)
			for _, cmd := range commands(s.run) {
				if !printers[cmd[0]] {
					continue
				}
				line := strings.Join(cmd, " ")
				if (cmd[0] == "printenv" || cmd[0] == "env") && len(cmd) == 1 && len(secretVars) > 0 {
					out = append(out, fmt.Sprintf("%s: %q lists the environment, which holds %s", at, line, strings.Join(secretVars, ", ")))
					continue
				}
				if secretExpression.MatchString(line) {
					out = append(out, fmt.Sprintf("%s: %q prints a secret", at, line))
				}
				for _, name := range secretVars {
					if regexp.MustCompile(`\$\{?` + regexp.QuoteMeta(name) + `\b`).MatchString(line) {
						out = append(out, fmt.Sprintf("%s: %q prints %s, which env: sets from a secret", at, line, name))
					}
				}
			}
		}
	}
	return out
}
