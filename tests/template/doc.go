// Package template enforces the project's rules for template.yaml: every route behind a JWT,
// throttled APIs, a role of its own for every function with least-privilege policies, TLS-only
// queues, topics and buckets, JSON logs with retention, deliberate timeouts, dead-letter queues
// with alarms, the outputs the end-to-end tests read, and queue retry settings that code repeats
// written once, in Mappings. cfn-lint checks that the template is valid; these tests check that
// it is the template the project promised.
//
// Each rule is a check function that returns its violations, one line each, starting with the
// logical ID at fault. Each rule's test runs its check on ../../template.yaml (no violations) and on a
// fixture in testdata/ that breaks exactly that rule (the violations it must name), so every rule is
// seen to fail. Templates are read with the project's one parser, infra/local/template; the rules
// about what CloudFormation receives also read the template after AWS SAM's transform, which
// transform.py runs offline.
package template
