// Package workflows enforces the project's rules for the GitHub Actions workflows in
// .github/workflows: third-party actions pinned to a commit, no pull_request_target, permissions
// granted per job and id-token: write only where a role is assumed, make run only with the targets
// the README documents, and no secret printed. No workflow can run on the machines that develop
// this project, so these rules (with actionlint, which `make lint` runs) are how a change to a
// workflow is checked before GitHub runs it.
//
// Each rule is a check function that returns its violations, one line each, starting with where
// in the workflow the fault is (on, permissions, jobs.<id>, jobs.<id>.steps[<i>]). Each rule's test
// runs its check on every workflow in ../../.github/workflows (no violations) and on a fixture in
// testdata/ that breaks exactly that rule (the violations it must name), so every rule is seen to
// fail.
package workflows
