package template

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-serverless/reference/infra/local/template"
)

// rule is one of the template rules: its name (the test that enforces it is "Test" + name) and
// the check that lists its violations. Most rules read the template as written (check); the rules
// about what CloudFormation receives read it after SAM's transform as well (checkTransformed).
// A rule sets one of the two.
type rule struct {
	name             string
	check            func(t *template.Template) []string
	checkTransformed func(source, transformed *template.Template) []string
}

// allRules returns every rule, in the order README.md lists them.
func allRules() []rule {
	return []rule{
		{name: "EveryRouteRequiresJWT", check: checkEveryRouteRequiresJWT},
		{name: "EveryAPIIsThrottled", check: checkEveryAPIIsThrottled},
		{name: "FunctionsHaveTheirOwnRoles", check: checkFunctionsHaveTheirOwnRoles},
		{name: "PoliciesAreLeastPrivilege", check: checkPoliciesAreLeastPrivilege},
		{name: "SAMTransformAddsNoPermissions", checkTransformed: checkSAMTransformAddsNoPermissions},
		{name: "TransportIsTLSOnly", check: checkTransportIsTLSOnly},
		{name: "FunctionsLogJSONToRetainedGroups", check: checkFunctionsLogJSONToRetainedGroups},
		{name: "TimeoutAndMemoryAreDeliberate", check: checkTimeoutAndMemoryAreDeliberate},
		{name: "FunctionsAreGoOnARM64", check: checkFunctionsAreGoOnARM64},
		{name: "FedQueuesHaveDeadLetterQueues", check: checkFedQueuesHaveDeadLetterQueues},
		{name: "VisibilityTimeoutCoversSixTimeouts", check: checkVisibilityTimeoutCoversSixTimeouts},
		{name: "SQSEventsReportBatchItemFailures", check: checkSQSEventsReportBatchItemFailures},
		{name: "SQSEventsCapConcurrency", check: checkSQSEventsCapConcurrency},
		{name: "AsyncFunctionsHaveFailureDestinations", check: checkAsyncFunctionsHaveFailureDestinations},
		{name: "DeadLetterQueuesAreAlarmed", check: checkDeadLetterQueuesAreAlarmed},
		{name: "NoFnJoin", check: checkNoFnJoin},
		{name: "OutputsForTests", check: checkOutputsForTests},
		{name: "StackTags", check: checkStackTags},
		{name: "LogGroupsExpire", check: checkLogGroupsExpire},
		{name: "RetrySettingsAreWrittenOnce", check: checkRetrySettingsAreWrittenOnce},
		{name: "FunctionsAreAlarmed", check: checkFunctionsAreAlarmed},
		{name: "APIsAreAlarmed", check: checkAPIsAreAlarmed},
		{name: "QueuesAreAlarmed", check: checkQueuesAreAlarmed},
		{name: "StreamsAreAlarmed", check: checkStreamsAreAlarmed},
		{name: "FunctionsAreTraced", check: checkFunctionsAreTraced},
		{name: "SQSEventsAreAccepted", check: checkSQSEventsAreAccepted},
	}
}

// checkEveryRouteRequiresJWT: each HttpApi has a default JWT authorizer (issuer and audience),
// no HttpApi event opts out with Authorizer NONE or names a non-JWT authorizer, every HttpApi
// event names a declared HttpApi (without ApiId SAM creates an implicit API with no auth), and no
// function has a function URL with AuthType NONE (a route around the API).
func checkEveryRouteRequiresJWT(t *template.Template) []string {
	var out []string
	for _, api := range t.OfType(typeHTTPAPI) {
		props := withGlobals(t, "HttpApi", api)
		def := stringAt(props, "Auth", "DefaultAuthorizer")
		if def == "" {
			out = append(out, fmt.Sprintf("%s: Auth.DefaultAuthorizer is not set, so a route without its own authorizer is open", api.LogicalID))
		} else if problem := jwtProblem(props, def); problem != "" {
			out = append(out, fmt.Sprintf("%s: Auth.DefaultAuthorizer %s %s", api.LogicalID, def, problem))
		}
	}

	fns, problems := functionsOf(t)
	out = append(out, problems...)
	for _, f := range fns {
		if v, _ := lookup(f.Properties, "FunctionUrlConfig", "AuthType"); v == "NONE" {
			out = append(out, fmt.Sprintf("%s: FunctionUrlConfig.AuthType NONE gives it a public URL that no JWT guards", f.LogicalID))
		}
		for _, e := range f.Events {
			if e.Type != "HttpApi" {
				continue
			}
			apiID, hasAPI := e.Properties["ApiId"]
			api, isRef := refOf(apiID)
			switch {
			case !hasAPI:
				out = append(out, fmt.Sprintf("%s: HttpApi event %s has no ApiId, so SAM serves it from an implicit API without an authorizer", f.LogicalID, e.Name))
				continue
			case !isRef || t.Resources[api].Type != typeHTTPAPI:
				out = append(out, fmt.Sprintf("%s: HttpApi event %s has ApiId %s, not !Ref of a declared %s", f.LogicalID, e.Name, show(apiID), typeHTTPAPI))
				continue
			}
			authorizer, set := lookup(e.Properties, "Auth", "Authorizer")
			name, _ := authorizer.(string)
			switch {
			case !set:
			case name == "NONE":
				out = append(out, fmt.Sprintf("%s: HttpApi event %s sets Auth.Authorizer NONE, so %s is open", f.LogicalID, e.Name, routeKey(e)))
			default:
				if problem := jwtProblem(withGlobals(t, "HttpApi", t.Resources[api]), name); problem != "" {
					out = append(out, fmt.Sprintf("%s: HttpApi event %s sets Auth.Authorizer %s, which %s in %s", f.LogicalID, e.Name, show(authorizer), problem, api))
				}
			}
		}
	}
	return out
}

// jwtProblem says what the authorizer called name, in the properties of an HttpApi, lacks to be
// a JWT authorizer; "" when nothing.
func jwtProblem(api map[string]template.Value, name string) string {
	authorizer, ok := lookup(api, "Auth", "Authorizers", name)
	if !ok {
		return "is not one of Auth.Authorizers"
	}
	cfg, ok := lookup(authorizer, "JwtConfiguration")
	if !ok {
		return "has no JwtConfiguration"
	}
	if issuer, _ := lookupFold(cfg, "issuer"); isEmpty(issuer) {
		return "has no JwtConfiguration issuer"
	}
	if audience, _ := lookupFold(cfg, "audience"); isEmpty(audience) {
		return "has no JwtConfiguration audience"
	}
	return ""
}

// checkEveryAPIIsThrottled: each HttpApi has DefaultRouteSettings with both throttling limits, and
// every RouteSettings key is the route key of one of its events (an override with a typo in its key
// silently throttles nothing).
func checkEveryAPIIsThrottled(t *template.Template) []string {
	fns, out := functionsOf(t)
	routes := map[string]map[string]bool{} // HttpApi → its route keys
	for _, f := range fns {
		for _, e := range f.Events {
			if api, ok := refOf(e.Properties["ApiId"]); ok && e.Type == "HttpApi" {
				if routes[api] == nil {
					routes[api] = map[string]bool{}
				}
				routes[api][routeKey(e)] = true
			}
		}
	}
	for _, api := range t.OfType(typeHTTPAPI) {
		props := withGlobals(t, "HttpApi", api)
		for _, limit := range []string{"ThrottlingBurstLimit", "ThrottlingRateLimit"} {
			if v, ok := lookup(props, "DefaultRouteSettings", limit); !ok || isEmpty(v) {
				out = append(out, fmt.Sprintf("%s: DefaultRouteSettings has no %s", api.LogicalID, limit))
			}
		}
		settings, _ := lookup(props, "RouteSettings")
		for _, key := range sortedKeys(asMap(settings)) {
			if !routes[api.LogicalID][key] {
				out = append(out, fmt.Sprintf("%s: RouteSettings key %q is not a route of this API (its routes: %s)",
					api.LogicalID, key, strings.Join(sortedKeys(routes[api.LogicalID]), ", ")))
			}
		}
	}
	return out
}

// checkFunctionsLogJSONToRetainedGroups: every function logs JSON to a log group of the template
// (LoggingConfig.LogGroup is !Ref of an AWS::Logs::LogGroup) that has RetentionInDays; Lambda's
// default group keeps logs forever.
func checkFunctionsLogJSONToRetainedGroups(t *template.Template) []string {
	fns, out := functionsOf(t)
	for _, f := range fns {
		if f.LogFormat != "JSON" {
			out = append(out, fmt.Sprintf("%s: LoggingConfig.LogFormat is %q, want JSON", f.LogicalID, f.LogFormat))
		}
		v, ok := lookup(f.Properties, "LoggingConfig", "LogGroup")
		group, isRef := refOf(v)
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: LoggingConfig.LogGroup is not set, so Lambda logs to a group that never expires", f.LogicalID))
		case !isRef || t.Resources[group].Type != typeLogGroup:
			out = append(out, fmt.Sprintf("%s: LoggingConfig.LogGroup %s is not !Ref of a declared %s", f.LogicalID, show(v), typeLogGroup))
		case isEmpty(t.Resources[group].Properties["RetentionInDays"]):
			out = append(out, fmt.Sprintf("%s: its log group %s has no RetentionInDays", f.LogicalID, group))
		}
	}
	return out
}

// checkTimeoutAndMemoryAreDeliberate: every function sets Timeout and MemorySize, itself or
// through Globals; SAM's silent defaults (3 s, 128 MB) are nobody's decision.
func checkTimeoutAndMemoryAreDeliberate(t *template.Template) []string {
	fns, out := functionsOf(t)
	for _, f := range fns {
		for _, p := range []string{"Timeout", "MemorySize"} {
			if _, ok := f.Properties[p]; !ok {
				out = append(out, fmt.Sprintf("%s: %s is not set (in the function or Globals.Function), so SAM's default applies", f.LogicalID, p))
			}
		}
	}
	return out
}

// checkFunctionsAreGoOnARM64: every function is a Go binary for provided.al2023 on arm64, with
// Handler bootstrap, built by the makefile, from a main package at <CodeUri>/cmd/<name>/main.go.
func checkFunctionsAreGoOnARM64(t *template.Template) []string {
	fns, out := functionsOf(t)
	want := []struct{ property, value string }{
		{"Runtime", "provided.al2023"},
		{"Handler", "bootstrap"},
	}
	for _, f := range fns {
		for _, w := range want {
			v, ok := f.Properties[w.property]
			got, err := stringOf(t, v)
			if !ok || err != nil || got != w.value {
				out = append(out, fmt.Sprintf("%s: %s is %s, want %s", f.LogicalID, w.property, show(v), w.value))
			}
		}
		arch, err := template.NewBindings(t, "", "").Resolve(f.Properties["Architectures"])
		if l := asList(arch); err != nil || len(l) != 1 || l[0] != "arm64" {
			out = append(out, fmt.Sprintf("%s: Architectures is %s, want [arm64]", f.LogicalID, show(f.Properties["Architectures"])))
		}
		if got := stringAt(t.Resources[f.LogicalID].Metadata, "BuildMethod"); got != "makefile" {
			out = append(out, fmt.Sprintf("%s: Metadata.BuildMethod is %q, want makefile", f.LogicalID, got))
		}
		mainGo := filepath.Join(t.Dir, f.Package, "main.go")
		if info, err := os.Stat(mainGo); err != nil || !info.Mode().IsRegular() {
			out = append(out, fmt.Sprintf("%s: no main package at %s (CodeUri %s, cmd/<logical ID without Function, in kebab case>)", f.LogicalID, filepath.Join(f.Package, "main.go"), f.CodeURI))
		}
	}
	return out
}

// queueConsumers returns the declared queues that SQS events read, each with the functions that
// read it; problems name the SQS events whose Queue is not !GetAtt <declared queue>.Arn.
func queueConsumers(t *template.Template) (queues map[string][]template.Function, problems []string) {
	fns, problems := functionsOf(t)
	queues = map[string][]template.Function{}
	for _, f := range fns {
		for _, e := range f.Events {
			if e.Type != "SQS" {
				continue
			}
			q, attr, ok := getAttOf(e.Properties["Queue"])
			if !ok || attr != "Arn" || t.Resources[q].Type != typeQueue {
				problems = append(problems, fmt.Sprintf("%s: SQS event %s reads Queue %s, not !GetAtt <declared %s>.Arn", f.LogicalID, e.Name, show(e.Properties["Queue"]), typeQueue))
				continue
			}
			if n := len(queues[q]); n == 0 || queues[q][n-1].LogicalID != f.LogicalID {
				queues[q] = append(queues[q], f)
			}
		}
	}
	return queues, problems
}

// checkFedQueuesHaveDeadLetterQueues: every queue that feeds a function redrives, after
// maxReceiveCount receives, to another declared queue, so a poison message stops being retried.
func checkFedQueuesHaveDeadLetterQueues(t *template.Template) []string {
	queues, out := queueConsumers(t)
	for _, q := range sortedKeys(queues) {
		redrive, ok := t.Resources[q].Properties["RedrivePolicy"]
		if !ok {
			var readers []string
			for _, f := range queues[q] {
				readers = append(readers, f.LogicalID)
			}
			out = append(out, fmt.Sprintf("%s: feeds %s but has no RedrivePolicy", q, strings.Join(readers, ", ")))
			continue
		}
		target, _ := lookup(redrive, "deadLetterTargetArn")
		dlqs := resourcesIn(t, target, typeQueue)
		if len(dlqs) == 0 || slices.Equal(dlqs, []string{q}) {
			out = append(out, fmt.Sprintf("%s: RedrivePolicy.deadLetterTargetArn %s is not another declared %s", q, show(target), typeQueue))
		}
		count, ok := lookup(redrive, "maxReceiveCount")
		if !ok {
			out = append(out, fmt.Sprintf("%s: RedrivePolicy has no maxReceiveCount", q))
		} else if n, err := intOf(t, count); err != nil || n < 1 {
			out = append(out, fmt.Sprintf("%s: RedrivePolicy.maxReceiveCount %s is not a positive integer", q, show(count)))
		}
	}
	return out
}

// sqsDefaultVisibilityTimeout is SQS's VisibilityTimeout, in seconds, for a queue that sets none.
const sqsDefaultVisibilityTimeout = 30

// checkVisibilityTimeoutCoversSixTimeouts: a queue's VisibilityTimeout is at least 6 × the Timeout
// of every function it feeds (AWS's advice for Lambda event sources), so a message is not handed
// to a second worker while the first may still be working on it.
func checkVisibilityTimeoutCoversSixTimeouts(t *template.Template) []string {
	queues, _ := queueConsumers(t) // an SQS event on an undeclared queue is FedQueuesHaveDeadLetterQueues' to report
	var out []string
	for _, q := range sortedKeys(queues) {
		visibility, source := sqsDefaultVisibilityTimeout, " (the SQS default)"
		if v, ok := t.Resources[q].Properties["VisibilityTimeout"]; ok {
			n, err := intOf(t, v)
			if err != nil {
				out = append(out, fmt.Sprintf("%s: VisibilityTimeout: %v", q, err))
				continue
			}
			visibility, source = n, ""
		}
		for _, f := range queues[q] {
			timeout := int(f.Timeout.Seconds())
			if visibility < 6*timeout {
				out = append(out, fmt.Sprintf("%s: VisibilityTimeout %d%s is below 6 × %s Timeout (%d) = %d",
					q, visibility, source, f.LogicalID, timeout, 6*timeout))
			}
		}
	}
	return out
}

// checkSQSEventsReportBatchItemFailures: every SQS event lets its function report the messages
// that failed, so one bad message does not send its whole batch back to the queue.
func checkSQSEventsReportBatchItemFailures(t *template.Template) []string {
	fns, out := functionsOf(t)
	for _, f := range fns {
		for _, e := range f.Events {
			if e.Type != "SQS" {
				continue
			}
			types, _ := e.Properties["FunctionResponseTypes"].([]template.Value)
			found := false
			for _, v := range types {
				found = found || v == "ReportBatchItemFailures"
			}
			if !found {
				out = append(out, fmt.Sprintf("%s: SQS event %s has no FunctionResponseTypes [ReportBatchItemFailures]", f.LogicalID, e.Name))
			}
		}
	}
	return out
}

// checkSQSEventsCapConcurrency: every SQS event sets ScalingConfig.MaximumConcurrency, so a deep
// queue cannot scale the function past what its downstream resources take.
func checkSQSEventsCapConcurrency(t *template.Template) []string {
	fns, out := functionsOf(t)
	for _, f := range fns {
		for _, e := range f.Events {
			if e.Type != "SQS" {
				continue
			}
			if v, ok := lookup(e.Properties, "ScalingConfig", "MaximumConcurrency"); !ok || isEmpty(v) {
				out = append(out, fmt.Sprintf("%s: SQS event %s has no ScalingConfig.MaximumConcurrency", f.LogicalID, e.Name))
			}
		}
	}
	return out
}

// checkSQSEventsAreAccepted: every SQS event is one Lambda creates a mapping for
// (template.SQSEventRefusals, which the local runner refuses to start without too). cfn-lint sees
// each property's range but not a BatchSize above 10 without a batching window, nor one above 10
// from a FIFO queue, which AWS refuses only once the deploy has begun.
func checkSQSEventsAreAccepted(t *template.Template) []string {
	fns, out := functionsOf(t)
	for _, f := range fns {
		for _, e := range f.Events {
			if e.Type != "SQS" {
				continue
			}
			for _, r := range template.SQSEventRefusals(e.Properties, fifoQueue(t, e.Properties["Queue"])) {
				out = append(out, fmt.Sprintf("%s: SQS event %s: %s", f.LogicalID, e.Name, r))
			}
		}
	}
	return out
}

// fifoQueue reports whether v, an SQS event's Queue, is a FIFO queue: a queue ARN ending in .fifo,
// or !GetAtt <queue>.Arn of a queue of t with FifoQueue true or a QueueName ending in .fifo.
func fifoQueue(t *template.Template, v template.Value) bool {
	if arn, ok := v.(string); ok {
		return strings.HasSuffix(arn, ".fifo")
	}
	id, attr, ok := getAttOf(v)
	r, declared := t.Resources[id]
	if !ok || attr != "Arn" || !declared {
		return false
	}
	name, _ := r.Properties["QueueName"].(string)
	fifo := r.Properties["FifoQueue"]
	return fifo == true || fifo == "true" || strings.HasSuffix(name, ".fifo")
}

// asyncInvocations returns, for each function invoked asynchronously, why: its asynchronous events,
// and the statements (of another function's role, or its SAM Policies) or LambdaInvokePolicy
// templates that let another function invoke it.
func asyncInvocations(t *template.Template, fns []template.Function) map[string][]string {
	// The SAM event types whose service invokes the function asynchronously.
	asyncEventTypes := []string{
		"S3", "SNS", "EventBridgeRule", "Schedule", "ScheduleV2", "CloudWatchEvent", "CloudWatchLogs", "IoTRule",
	}
	why := map[string][]string{}
	for _, f := range fns {
		for _, e := range f.Events {
			if slices.Contains(asyncEventTypes, e.Type) {
				why[f.LogicalID] = append(why[f.LogicalID], fmt.Sprintf("%s event %s", e.Type, e.Name))
			}
		}
	}
	policies := identityPolicies(t)
	for _, caller := range fns {
		// grant is a statement the caller holds, with where it is written.
		type grant struct {
			where string
			s     statement
		}
		var grants []grant
		ps := policiesOf(caller.Properties["Policies"])
		for _, p := range ps {
			if p.kind == policyTemplate && p.template == "LambdaInvokePolicy" {
				for _, callee := range resourcesIn(t, p.value, typeFunction) {
					why[callee] = append(why[callee], fmt.Sprintf("%s %s LambdaInvokePolicy", caller.LogicalID, p.where))
				}
			}
		}
		for _, s := range statementsOf(ps) {
			grants = append(grants, grant{caller.LogicalID + " " + s.where, s})
		}
		if role, attr, ok := getAttOf(caller.Properties["Role"]); ok && attr == "Arn" {
			for _, d := range policies {
				if !slices.Contains(d.governs, role) {
					continue
				}
				for _, s := range d.statements() {
					grants = append(grants, grant{fmt.Sprintf("%s's role: %s %s", caller.LogicalID, d.owner, s.where), s})
				}
			}
		}
		for _, g := range grants {
			invokes := false
			for _, a := range g.s.actions() {
				name, _ := a.(string)
				invokes = invokes || actionMatches(name, "lambda:InvokeFunction") || actionMatches(name, "lambda:InvokeAsync")
			}
			if !invokes || g.s.denies() {
				continue
			}
			for _, callee := range resourcesIn(t, g.s.fields["Resource"], typeFunction) {
				why[callee] = append(why[callee], "lambda:InvokeFunction in "+g.where)
			}
		}
	}
	return why
}

// checkAsyncFunctionsHaveFailureDestinations: a function invoked asynchronously (by an S3, SNS,
// EventBridge, schedule, CloudWatch or IoT event, or by another function allowed to call
// lambda:InvokeFunction on it) keeps the events it fails on: a DeadLetterQueue or an
// EventInvokeConfig OnFailure destination on a declared resource, and a deliberate
// EventInvokeConfig.MaximumRetryAttempts.
func checkAsyncFunctionsHaveFailureDestinations(t *template.Template) []string {
	fns, out := functionsOf(t)
	why := asyncInvocations(t, fns)
	for _, f := range fns {
		reasons, ok := why[f.LogicalID]
		if !ok {
			continue
		}
		because := "invoked asynchronously (" + strings.Join(reasons, "; ") + ")"
		dlq, hasDLQ := lookup(f.Properties, "DeadLetterQueue", "TargetArn")
		onFailure, hasOnFailure := lookup(f.Properties, "EventInvokeConfig", "DestinationConfig", "OnFailure", "Destination")
		switch {
		case !hasDLQ && !hasOnFailure:
			out = append(out, fmt.Sprintf("%s: %s but has neither DeadLetterQueue nor EventInvokeConfig.DestinationConfig.OnFailure.Destination", f.LogicalID, because))
		case hasDLQ && len(resourcesIn(t, dlq)) == 0:
			out = append(out, fmt.Sprintf("%s: DeadLetterQueue.TargetArn %s refers to no declared resource", f.LogicalID, show(dlq)))
		case hasOnFailure && len(resourcesIn(t, onFailure)) == 0:
			out = append(out, fmt.Sprintf("%s: EventInvokeConfig.DestinationConfig.OnFailure.Destination %s refers to no declared resource", f.LogicalID, show(onFailure)))
		}
		if v, ok := lookup(f.Properties, "EventInvokeConfig", "MaximumRetryAttempts"); !ok || isEmpty(v) {
			out = append(out, fmt.Sprintf("%s: %s but EventInvokeConfig.MaximumRetryAttempts is not set", f.LogicalID, because))
		}
	}
	return out
}

// checkDeadLetterQueuesAreAlarmed: every dead-letter queue (a RedrivePolicy target, or a function's
// DeadLetterQueue or OnFailure queue) has an alarm on ApproximateNumberOfMessagesVisible for that
// queue with AlarmActions: a failed message nobody hears of is a lost message. The alarm has the
// settings README.md's "Operating it" table lists: deadLetterAlarm, or, for a dead-letter queue
// that feeds a function and whose messages are expected (for a while), drainedDeadLetterAlarm.
func checkDeadLetterQueuesAreAlarmed(t *template.Template) []string {
	fns, out := functionsOf(t)
	dlqs := map[string]string{} // queue → what makes it a dead-letter queue
	for _, q := range t.OfType(typeQueue) {
		target, _ := lookup(q.Properties, "RedrivePolicy", "deadLetterTargetArn")
		for _, dlq := range resourcesIn(t, target, typeQueue) {
			dlqs[dlq] = "the RedrivePolicy target of " + q.LogicalID
		}
	}
	for _, f := range fns {
		target, _ := lookup(f.Properties, "DeadLetterQueue", "TargetArn")
		for _, dlq := range resourcesIn(t, target, typeQueue) {
			dlqs[dlq] = "the DeadLetterQueue of " + f.LogicalID
		}
		target, _ = lookup(f.Properties, "EventInvokeConfig", "DestinationConfig", "OnFailure", "Destination")
		for _, dlq := range resourcesIn(t, target, typeQueue) {
			dlqs[dlq] = "the OnFailure destination of " + f.LogicalID
		}
	}

	drainedQueues, _ := queueConsumers(t)
	for _, q := range sortedKeys(dlqs) {
		var watching, alerting []string
		for _, a := range t.OfType(typeAlarm) {
			if !watchesQueueDepth(a, q) {
				continue
			}
			watching = append(watching, a.LogicalID)
			if actions, ok := a.Properties["AlarmActions"]; ok && !isEmpty(actions) {
				alerting = append(alerting, a.LogicalID)
				if _, drained := drainedQueues[q]; drained && len(settingsProblems(t, q, a, drainedDeadLetterAlarm)) == 0 {
					continue
				}
				out = append(out, settingsProblems(t, q, a, deadLetterAlarm)...)
			}
		}
		switch {
		case len(watching) == 0:
			out = append(out, fmt.Sprintf("%s: dead-letter queue (%s) has no %s on AWS/SQS ApproximateNumberOfMessagesVisible with dimension QueueName !GetAtt %s.QueueName", q, dlqs[q], typeAlarm, q))
		case len(alerting) == 0:
			out = append(out, fmt.Sprintf("%s: dead-letter queue (%s) is watched by %s, which has no AlarmActions", q, dlqs[q], strings.Join(watching, ", ")))
		}
	}
	return out
}

// watchesQueueDepth reports whether alarm a watches the visible messages of queue q.
func watchesQueueDepth(a template.Resource, q string) bool {
	if stringAt(a.Properties, "Namespace") != "AWS/SQS" || stringAt(a.Properties, "MetricName") != "ApproximateNumberOfMessagesVisible" {
		return false
	}
	for _, d := range asList(a.Properties["Dimensions"]) {
		if stringAt(d, "Name") != "QueueName" {
			continue
		}
		v, _ := lookup(d, "Value")
		if id, attr, ok := getAttOf(v); ok && id == q && attr == "QueueName" {
			return true
		}
	}
	return false
}

// checkNoFnJoin: the template uses Fn::Sub, never Fn::Join: "${Table.Arn}/index/*" reads as the
// string it builds.
func checkNoFnJoin(t *template.Template) []string {
	var out []string
	find := func(owner, path string, v template.Value) {
		walk(v, path, func(at string, v template.Value) {
			if name, _, ok := intrinsic(v); ok && name == "Fn::Join" {
				out = append(out, fmt.Sprintf("%s: Fn::Join at %s; use Fn::Sub", owner, at))
			}
		})
	}
	for _, kind := range sortedKeys(t.Globals) {
		find("Globals."+kind, "Globals."+kind, t.Globals[kind])
	}
	for _, id := range sortedKeys(t.Resources) {
		r := t.Resources[id]
		find(id, "Properties", r.Properties)
		find(id, "Metadata", r.Metadata)
	}
	for _, name := range sortedKeys(t.Conditions) {
		find(name, "Conditions."+name, t.Conditions[name])
	}
	for _, name := range sortedKeys(t.Outputs) {
		find(name, "Outputs."+name, t.Outputs[name])
	}
	return out
}

// checkOutputsForTests: the end-to-end tests find everything through outputs, each in the outputs
// of the template that declares it (a nested application's own, in the flattened form): an HttpApi
// through ApiUrl, the user pool and client through UserPoolId and UserPoolClientId, every DynamoDB
// table, SQS queue, SNS topic and S3 bucket through an output whose Value is its !Ref. In the
// flattened form, each nested application's API is re-exported by a root output too (the
// <Svc>ApiUrl the tests read on AWS, where a nested stack's outputs are not the root's).
func checkOutputsForTests(t *template.Template) []string {
	var out []string
	outputsOf := func(stack string) map[string]template.Value {
		if stack == "" {
			return t.Outputs
		}
		return t.Apps[stack].Outputs
	}
	value := func(stack, name string) (template.Value, bool) { return lookup(outputsOf(stack)[name], "Value") }

	apis := map[string][]string{} // stack → its HttpApis
	for _, api := range t.OfType(typeHTTPAPI) {
		apis[api.Stack] = append(apis[api.Stack], api.LogicalID)
	}
	for _, stack := range sortedKeys(apis) {
		if v, ok := value(stack, "ApiUrl"); !ok {
			out = append(out, "ApiUrl: no output of that name (the end-to-end tests read the API's URL from it)")
		} else if !containsAny(resourcesIn(t, v, typeHTTPAPI), apis[stack]) {
			out = append(out, fmt.Sprintf("ApiUrl: Value %s refers to no declared %s", show(v), typeHTTPAPI))
		}
		if stack == "" {
			continue
		}
		reexported := false
		for _, o := range t.Outputs {
			v, _ := lookup(o, "Value")
			reexported = reexported || containsAny(resourcesIn(t, v, typeHTTPAPI), apis[stack])
		}
		if !reexported {
			out = append(out, fmt.Sprintf("%s: no root output re-exports its API's URL (!GetAtt %s.Outputs.ApiUrl)", stack, stack))
		}
	}
	for _, w := range []struct{ output, typ string }{{"UserPoolId", typeUserPool}, {"UserPoolClientId", typePoolClient}} {
		for _, r := range t.OfType(w.typ) {
			v, ok := value(r.Stack, w.output)
			if !ok {
				out = append(out, fmt.Sprintf("%s: no output of that name (the end-to-end tests sign in with it)", w.output))
				continue
			}
			if id, isRef := refOf(v); !isRef || t.Resources[id].Type != w.typ {
				out = append(out, fmt.Sprintf("%s: Value %s is not !Ref of a declared %s", w.output, show(v), w.typ))
			}
		}
	}

	exported := map[string]bool{}
	for _, stack := range append([]string{""}, sortedKeys(t.Apps)...) {
		for name := range outputsOf(stack) {
			v, _ := value(stack, name)
			for _, id := range outputRefs(v) {
				if t.Resources[id].Stack == stack {
					exported[id] = true
				}
			}
		}
	}
	for _, typ := range []string{typeTable, typeQueue, typeTopic, typeBucket} {
		for _, r := range t.OfType(typ) {
			if !exported[r.LogicalID] {
				out = append(out, fmt.Sprintf("%s: no output whose Value is !Ref %s (the end-to-end tests find the %s through it)", r.LogicalID, r.LogicalID, typ))
			}
		}
	}
	return out
}

// outputRefs lists the resources an output's Value is the !Ref of: itself, or a branch of its
// Fn::If (a resource made only on a condition, such as a service's own alarm topic, is output as
// !If [Condition, !Ref Resource, <what is used instead>]).
func outputRefs(v template.Value) []string {
	if id, ok := refOf(v); ok {
		return []string{id}
	}
	name, arg, ok := intrinsic(v)
	if !ok || name != "Fn::If" {
		return nil
	}
	branches := asList(arg)
	if len(branches) != 3 {
		return nil
	}
	var out []string
	for _, branch := range branches[1:] {
		out = append(out, outputRefs(branch)...)
	}
	return out
}

// containsAny reports whether list holds any of want.
func containsAny(list, want []string) bool {
	return slices.ContainsFunc(want, func(w string) bool { return slices.Contains(list, w) })
}

// checkStackTags: every function carries the project and stage tags, so costs and resources can
// be told apart per stage. A template's own functions take them from Globals.Function.Tags (stage
// from the Stage parameter); a nested application is passed the stage (Stage: !Ref Stage), or its
// stack would be tagged with its own template's default; in the flattened form each nested
// function's tags are checked as its template merged them.
func checkStackTags(t *template.Template) []string {
	var out []string
	if _, ok := t.Parameters["Stage"]; !ok {
		out = append(out, "Parameters: no Stage parameter")
	}
	fns, _ := functionsOf(t)
	own := slices.ContainsFunc(fns, func(f template.Function) bool { return f.Stack == "" })
	if own {
		tags, _ := lookup(t.Globals["Function"], "Tags")
		out = append(out, tagProblems("Globals.Function.Tags", tags)...)
	}
	for _, f := range fns {
		if f.Stack != "" {
			tags, _ := lookup(f.Properties, "Tags")
			out = append(out, tagProblems(f.LogicalID+".Tags", tags)...)
		}
	}
	for _, app := range t.OfType(template.TypeApplication) {
		stage, _ := lookup(app.Properties, "Parameters", "Stage")
		if name, ok := refOf(stage); !ok || name != "Stage" {
			out = append(out, fmt.Sprintf("%s: Parameters.Stage is %s, want !Ref Stage (else its stack is tagged with its template's default stage)", app.LogicalID, show(stage)))
		}
	}
	return out
}

// tagProblems checks one Tags mapping for the project tag and stage: !Ref Stage.
func tagProblems(where string, tags template.Value) []string {
	var out []string
	if v, _ := lookup(tags, "project"); isEmpty(v) {
		out = append(out, where+": no project tag")
	}
	stage, _ := lookup(tags, "stage")
	if name, ok := refOf(stage); !ok || name != "Stage" {
		out = append(out, fmt.Sprintf("%s: stage is %s, want !Ref Stage", where, show(stage)))
	}
	return out
}

// checkLogGroupsExpire: every log group has RetentionInDays; CloudWatch keeps logs forever by default.
func checkLogGroupsExpire(t *template.Template) []string {
	var out []string
	for _, g := range t.OfType(typeLogGroup) {
		if isEmpty(g.Properties["RetentionInDays"]) {
			out = append(out, fmt.Sprintf("%s: no RetentionInDays, so its logs are kept forever", g.LogicalID))
		}
	}
	return out
}

// retrySetting returns the queue property that a function environment variable called name
// repeats, judged by how the name ends, and its path under the queue's Properties.
func retrySetting(name string) (property string, path []string, ok bool) {
	switch {
	case strings.HasSuffix(name, "MAX_RECEIVE_COUNT"):
		return "RedrivePolicy.maxReceiveCount", []string{"RedrivePolicy", "maxReceiveCount"}, true
	case strings.HasSuffix(name, "VISIBILITY_TIMEOUT_SECONDS"):
		return "VisibilityTimeout", []string{"VisibilityTimeout"}, true
	default:
		return "", nil, false
	}
}

// readsEntry reports whether v, a queue's properties, reads any key of Mappings entry
// mapName.topKey: the queue whose settings that entry holds.
func readsEntry(v template.Value, mapName, topKey string) bool {
	found := false
	walk(v, "", func(_ string, v template.Value) {
		if m, top, _, ok := findInMapOf(v); ok && m == mapName && top == topKey {
			found = true
		}
	})
	return found
}

// checkRetrySettingsAreWrittenOnce: code that must agree with a queue's retries reads them from
// where the queue does. Every function environment variable whose name ends in MAX_RECEIVE_COUNT
// or VISIBILITY_TIMEOUT_SECONDS is !FindInMap of a Mappings entry that a queue's
// RedrivePolicy.maxReceiveCount or VisibilityTimeout (respectively) reads too, and every queue that
// takes its settings from that entry takes the property the variable names from it, not as a
// literal of its own: a number written twice drifts (a batch deadline computed from a visibility
// timeout the queue no longer has, a "last attempt" that is not the last).
func checkRetrySettingsAreWrittenOnce(t *template.Template) []string {
	fns, out := functionsOf(t)
	queues := t.OfType(typeQueue)
	for _, f := range fns {
		for _, name := range sortedKeys(f.Environment) {
			property, path, ok := retrySetting(name)
			if !ok {
				continue
			}
			v := f.Environment[name]
			mapName, topKey, secondKey, ok := findInMapOf(v)
			if !ok {
				out = append(out, fmt.Sprintf("%s: %s is %s, not !FindInMap of the Mappings entry a queue's %s reads: the code and the queue can drift apart",
					f.LogicalID, name, show(v), property))
				continue
			}
			if _, ok := t.Mappings[mapName][topKey][secondKey]; !ok {
				out = append(out, fmt.Sprintf("%s: %s is %s, which Mappings does not hold", f.LogicalID, name, show(v)))
				continue
			}
			owners := 0
			for _, q := range queues {
				if !readsEntry(q.Properties, mapName, topKey) {
					continue
				}
				owners++
				got, set := lookup(q.Properties, path...)
				if m, top, second, ok := findInMapOf(got); ok && m == mapName && top == topKey && second == secondKey {
					continue
				}
				setting := "is not set"
				if set {
					setting = "is " + show(got)
				}
				out = append(out, fmt.Sprintf("%s: %s %s, not %s, which %s's %s reads: the queue and the code can drift apart",
					q.LogicalID, property, setting, show(v), f.LogicalID, name))
			}
			if owners == 0 {
				out = append(out, fmt.Sprintf("%s: %s is %s, which no queue's %s reads: nothing keeps the code and a queue the same",
					f.LogicalID, name, show(v), property))
			}
		}
	}
	return out
}
