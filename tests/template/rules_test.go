package template

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-serverless/reference/infra/local/template"
)

// projectTemplate is the root template the rules are for; projectTemplates lists it with every
// service's own template.
const projectTemplate = "../../template.yaml"

// projectTemplates are the templates every rule holds for: each file as written (the root, and
// each services/*/template.yaml, which deploys alone too) and the root with its nested
// applications flattened into it (template.LoadApp, as the local runner reads it), where the
// rules see the whole application at once: a role of one service naming another's table, an
// output the root re-exports. The rules about what SAM's transform makes run on each file: the
// transform runs per template, nested or not.
func projectTemplates(t *testing.T) []projectFile {
	t.Helper()
	services, err := filepath.Glob("../../services/*/template.yaml")
	if err != nil || len(services) == 0 {
		t.Fatalf("list services/*/template.yaml: %v (found %d)", err, len(services))
	}
	files := []projectFile{{path: projectTemplate, tmpl: load(t, projectTemplate)}}
	for _, path := range services {
		files = append(files, projectFile{path: path, tmpl: load(t, path)})
	}
	nested, err := template.LoadApp(projectTemplate)
	if err != nil {
		t.Fatalf("load %s with its nested applications: %v", projectTemplate, err)
	}
	return append(files, projectFile{path: projectTemplate, nested: true, tmpl: nested})
}

// projectFile is one of projectTemplates.
type projectFile struct {
	path   string
	nested bool
	tmpl   *template.Template
}

func (f projectFile) String() string {
	if f.nested {
		return f.path + " (nested applications flattened)"
	}
	return f.path
}

// offence is a violation a fixture must produce: a line that starts with "<id>: " (the logical ID
// at fault, or the output, parameter or Globals section) and mentions about.
type offence struct {
	id, about string
}

// load reads a template with the project's parser.
func load(t *testing.T, path string) *template.Template {
	t.Helper()
	tmpl, err := template.Load(path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return tmpl
}

// ruleNamed returns the rule called name.
func ruleNamed(t *testing.T, name string) rule {
	t.Helper()
	for _, r := range allRules() {
		if r.name == name {
			return r
		}
	}
	t.Fatalf("no rule %s in allRules", name)
	return rule{}
}

// violations runs rule r on the template at path, already loaded as tmpl.
func violations(t *testing.T, r rule, path string, tmpl *template.Template) []string {
	t.Helper()
	if r.checkTransformed != nil {
		return r.checkTransformed(tmpl, transformed(t, path))
	}
	return r.check(tmpl)
}

// sameFault names, for each fixture whose fault two rules see from two sides, the other rule it
// must break too. A function without a Role of its own is FunctionsHaveTheirOwnRoles' fault in
// the template as written and SAMTransformAddsNoPermissions' in what SAM makes of it (a generated
// role with AWS managed policies).
var sameFault = map[string]string{
	"roles-not-their-own.yaml": "SAMTransformAddsNoPermissions",
	"sam-generated-role.yaml":  "FunctionsHaveTheirOwnRoles",
}

// testRule runs the rule called name on the project's template, which must keep it, and on
// testdata/<fixture>, which must break it with every offence in want (see testFixture).
func testRule(t *testing.T, name, fixture string, want ...offence) {
	t.Helper()
	r := ruleNamed(t, name)
	t.Run("project templates", func(t *testing.T) {
		for _, f := range projectTemplates(t) {
			if f.nested && r.checkTransformed != nil {
				continue
			}
			if got := violations(t, r, f.path, f.tmpl); len(got) != 0 {
				t.Errorf("%s: got violations of %s, want none:\n%s", f, name, strings.Join(got, "\n"))
			}
		}
	})
	testFixture(t, name, fixture, want...)
}

// testFixture runs the rule called name on testdata/<fixture>, which must break it with every
// offence in want and keep every other rule (but the one sameFault names for it, which it must
// break too).
func testFixture(t *testing.T, name, fixture string, want ...offence) {
	t.Helper()
	r := ruleNamed(t, name)
	if len(want) == 0 {
		t.Fatalf("%s: no offences to expect from %s; a rule must be seen to fail", name, fixture)
	}
	t.Run(fixture, func(t *testing.T) {
		path := filepath.Join("testdata", fixture)
		tmpl := load(t, path)
		got := violations(t, r, path, tmpl)
		t.Logf("%s breaks %s:\n%s", path, name, strings.Join(got, "\n"))
		for _, w := range want {
			if !reported(got, w) {
				t.Errorf("got violations:\n%s\nwant one starting %q that mentions %q", strings.Join(got, "\n"), w.id+": ", w.about)
			}
		}
		for _, other := range allRules() {
			if other.name == name {
				continue
			}
			v := violations(t, other, path, tmpl)
			shared := sameFault[fixture] == other.name
			switch {
			case shared && len(v) == 0:
				t.Errorf("%s keeps %s, want it broken too: the two see the same fault", path, other.name)
			case !shared && len(v) != 0:
				t.Errorf("%s also breaks %s, want it to break only %s:\n%s", path, other.name, name, strings.Join(v, "\n"))
			}
		}
	})
}

// reported reports whether violations hold the offence w.
func reported(violations []string, w offence) bool {
	for _, v := range violations {
		if strings.HasPrefix(v, w.id+": ") && strings.Contains(v, w.about) {
			return true
		}
	}
	return false
}

func TestGoodFixtureKeepsEveryRule(t *testing.T) {
	const path = "testdata/good.yaml"
	tmpl := load(t, path)
	for _, r := range allRules() {
		t.Run(r.name, func(t *testing.T) {
			if got := violations(t, r, path, tmpl); len(got) != 0 {
				t.Errorf("testdata/good.yaml: got violations, want none:\n%s", strings.Join(got, "\n"))
			}
		})
	}
}

func TestEveryRouteRequiresJWT(t *testing.T) {
	testRule(t, "EveryRouteRequiresJWT", "route-without-jwt.yaml",
		offence{"OpenApi", "Auth.DefaultAuthorizer is not set"},
		offence{"LambdaAuthApi", "Auth.DefaultAuthorizer Custom has no JwtConfiguration"},
		offence{"HelloFunction", "event Anonymous sets Auth.Authorizer NONE"},
		offence{"HelloFunction", `event ByLambda sets Auth.Authorizer "Lambda", which has no JwtConfiguration`},
		offence{"HelloFunction", "event Implicit has no ApiId"},
		offence{"HelloFunction", "FunctionUrlConfig.AuthType NONE"},
	)
}

func TestEveryAPIIsThrottled(t *testing.T) {
	testRule(t, "EveryAPIIsThrottled", "unthrottled-api.yaml",
		offence{"HttpApi", "DefaultRouteSettings has no ThrottlingRateLimit"},
		offence{"HttpApi", `RouteSettings key "POST /item" is not a route`},
	)
}

func TestFunctionsHaveTheirOwnRoles(t *testing.T) {
	testRule(t, "FunctionsHaveTheirOwnRoles", "roles-not-their-own.yaml",
		offence{"HelloFunction", "has Policies and no Role, so SAM generates a role"},
		offence{"ReportFunction", `Role !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/shared-lambda" is not !GetAtt <declared AWS::IAM::Role>.Arn`},
		offence{"WorkRole", "is the Role of ProjectFunction, WorkFunction"},
		offence{"ProjectFunction", "has Policies, which SAM ignores because Role is set"},
		offence{"NotifyRole", `trusts Principal {"Service":["lambda.amazonaws.com","events.amazonaws.com"]}`},
		offence{"NotifyRole", "grants NotifyFunction logs actions on !GetAtt WorkLogGroup.Arn, not on its own log group (!GetAtt NotifyLogGroup.Arn)"},
		offence{"NotifyRole", "grants NotifyFunction no logs:PutLogEvents on its log group"},
	)
}

func TestPoliciesAreLeastPrivilege(t *testing.T) {
	testRule(t, "PoliciesAreLeastPrivilege", "broad-policies.yaml",
		offence{"HelloRole", `ManagedPolicyArns attaches !Sub "arn:${AWS::Partition}:iam::aws:policy/AmazonDynamoDBFullAccess"`},
		offence{"HelloRole", `Action "dynamodb:*" is a wildcard`},
		offence{"HelloRole", `Resource "*" is a wildcard`},
		offence{"HelloRole", `Resource !Sub "${ItemsTable.Arn}/index/*" contains a wildcard`},
		offence{"HelloRole", `Resource !Sub "${UploadsBucket.Arn}/*" contains a wildcard`},
		offence{"HelloRole", `Resource "arn:aws:sqs:us-east-1:123456789012:work" is a literal`},
		offence{"HelloRole", "uses NotResource"},
		offence{"WorkExtraPolicy", `Action "s3:*" is a wildcard`},
		offence{"WorkExtraPolicy", `Resource "*" is a wildcard`},
		offence{"NotifyUploadsPolicy", `Action "s3:Get*" is a wildcard`},
		offence{"ProjectRole", `Resource "*" is a wildcard`},
		offence{"AlarmTopicPolicy", "allows cloudwatch.amazonaws.com without an aws:SourceArn"},
		offence{"QueuesPolicy", `allows Principal "*"`},
	)
}

func TestSAMTransformAddsNoPermissions(t *testing.T) {
	testRule(t, "SAMTransformAddsNoPermissions", "sam-generated-role.yaml",
		offence{"WorkFunctionRole", "SAM generates this role for WorkFunction"},
		offence{"WorkFunctionRole", `ManagedPolicyArns attaches "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"`},
		offence{"WorkFunctionRole", `ManagedPolicyArns attaches "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"`},
	)
	// A fault only the transformed template shows: the policy SAM writes for a connector.
	testFixture(t, "SAMTransformAddsNoPermissions", "sam-connector.yaml",
		offence{"HelloReadsItemsPolicy", "${DestinationArn}/index/*"},
	)
}

func TestTransportIsTLSOnly(t *testing.T) {
	testRule(t, "TransportIsTLSOnly", "plain-http.yaml",
		offence{"NotifyFailureQueue", "no AWS::SQS::QueuePolicy covers it, so it accepts requests over plain HTTP"},
	)
}

func TestFunctionsLogJSONToRetainedGroups(t *testing.T) {
	testRule(t, "FunctionsLogJSONToRetainedGroups", "unstructured-logs.yaml",
		offence{"HelloFunction", `LogFormat is "Text", want JSON`},
		offence{"WorkFunction", "LoggingConfig.LogGroup is not set"},
		offence{"NotifyFunction", `LoggingConfig.LogGroup "/aws/lambda/notify" is not !Ref`},
	)
}

func TestTimeoutAndMemoryAreDeliberate(t *testing.T) {
	testRule(t, "TimeoutAndMemoryAreDeliberate", "default-timeout.yaml",
		offence{"HelloFunction", "MemorySize is not set"},
		offence{"NotifyFunction", "Timeout is not set"},
	)
}

func TestFunctionsAreGoOnARM64(t *testing.T) {
	testRule(t, "FunctionsAreGoOnARM64", "wrong-runtime.yaml",
		offence{"HelloFunction", "Runtime is \"nodejs22.x\", want provided.al2023"},
		offence{"HelloFunction", "Handler is \"index.handler\", want bootstrap"},
		offence{"WorkFunction", "Architectures is [\"x86_64\"], want [arm64]"},
		offence{"WorkFunction", "Metadata.BuildMethod is \"go1.x\", want makefile"},
		offence{"NotifyFunction", "no main package at services/cmd/notify/main.go"},
	)
}

func TestFedQueuesHaveDeadLetterQueues(t *testing.T) {
	testRule(t, "FedQueuesHaveDeadLetterQueues", "queue-without-redrive.yaml",
		offence{"WorkQueue", "feeds WorkFunction but has no RedrivePolicy"},
		offence{"OtherQueue", "deadLetterTargetArn"},
		offence{"OtherQueue", "no maxReceiveCount"},
	)
}

func TestVisibilityTimeoutCoversSixTimeouts(t *testing.T) {
	testRule(t, "VisibilityTimeoutCoversSixTimeouts", "short-visibility-timeout.yaml",
		offence{"WorkQueue", "VisibilityTimeout 60 is below 6 × WorkFunction Timeout (30) = 180"},
		offence{"OtherQueue", "VisibilityTimeout 30 (the SQS default) is below 6 × WorkFunction Timeout (30) = 180"},
	)
}

func TestSQSEventsReportBatchItemFailures(t *testing.T) {
	testRule(t, "SQSEventsReportBatchItemFailures", "no-batch-item-failures.yaml",
		offence{"WorkFunction", "SQS event Work has no FunctionResponseTypes"},
	)
}

func TestSQSEventsCapConcurrency(t *testing.T) {
	testRule(t, "SQSEventsCapConcurrency", "unbounded-sqs-concurrency.yaml",
		offence{"WorkFunction", "SQS event Work has no ScalingConfig.MaximumConcurrency"},
	)
}

func TestSQSEventsAreAccepted(t *testing.T) {
	testRule(t, "SQSEventsAreAccepted", "sqs-batch-without-window.yaml",
		offence{"WorkFunction", "SQS event Work: BatchSize 20 is above 10, which needs MaximumBatchingWindowInSeconds of at least 1, not 0"},
	)
}

func TestAsyncFunctionsHaveFailureDestinations(t *testing.T) {
	testRule(t, "AsyncFunctionsHaveFailureDestinations", "async-without-failure-destination.yaml",
		offence{"NotifyFunction", "S3 event Upload) but has neither DeadLetterQueue nor"},
		offence{"WorkFunction", "lambda:InvokeFunction in HelloFunction"},
		offence{"WorkFunction", "MaximumRetryAttempts is not set"},
	)
}

func TestDeadLetterQueuesAreAlarmed(t *testing.T) {
	testRule(t, "DeadLetterQueuesAreAlarmed", "dead-letter-queue-without-alarm.yaml",
		offence{"WorkDeadLetterQueue", "RedrivePolicy target of WorkQueue) has no AWS::CloudWatch::Alarm"},
		offence{"NotifyFailureQueue", "is watched by NotifyFailureQueueAlarm, which has no AlarmActions"},
	)
	// The settings README.md's "Operating it" table lists for a dead-letter queue's alarm.
	testFixture(t, "DeadLetterQueuesAreAlarmed", "dead-letter-alarm-settings.yaml",
		offence{"NotifyFailureQueue", `alarm NotifyFailureQueueAlarm has statistic "Average", want Maximum`},
		offence{"NotifyFailureQueue", "alarm NotifyFailureQueueAlarm has Period 300, want 60"},
		offence{"NotifyFailureQueue", "alarm NotifyFailureQueueAlarm has TreatMissingData null, want notBreaching"},
	)
}

func TestNoFnJoin(t *testing.T) {
	testRule(t, "NoFnJoin", "join.yaml",
		offence{"HelloFunction", "Fn::Join at Properties.Environment.Variables.ITEMS_ARN"},
		offence{"ApiUrl", "Fn::Join at Outputs.ApiUrl.Value"},
	)
}

func TestOutputsForTests(t *testing.T) {
	testRule(t, "OutputsForTests", "missing-outputs.yaml",
		offence{"UserPoolClientId", "no output of that name"},
		offence{"UserPoolId", "is not !Ref of a declared AWS::Cognito::UserPool"},
		offence{"ItemsTable", "no output whose Value is !Ref ItemsTable"},
		offence{"AlarmTopic", "no output whose Value is !Ref AlarmTopic"},
		offence{"UploadsBucket", "no output whose Value is !Ref UploadsBucket"},
	)
}

func TestStackTags(t *testing.T) {
	testRule(t, "StackTags", "untagged.yaml",
		offence{"Parameters", "no Stage parameter"},
		offence{"Globals.Function.Tags", "no project tag"},
		offence{"Globals.Function.Tags", `stage is "dev", want !Ref Stage`},
	)
}

func TestLogGroupsExpire(t *testing.T) {
	testRule(t, "LogGroupsExpire", "log-group-without-retention.yaml",
		offence{"AccessLogGroup", "no RetentionInDays"},
	)
}

func TestRetrySettingsAreWrittenOnce(t *testing.T) {
	testRule(t, "RetrySettingsAreWrittenOnce", "retry-settings-written-twice.yaml",
		offence{"WorkFunction", "MAX_RECEIVE_COUNT is 3, not !FindInMap"},
		offence{"WorkQueue", "VisibilityTimeout is 60, not !FindInMap [Work, Queue, VisibilityTimeout], which WorkFunction's WORK_QUEUE_VISIBILITY_TIMEOUT_SECONDS reads"},
		offence{"NotifyFunction", "MAX_RECEIVE_COUNT is !FindInMap [Work, Notify, MaxReceiveCount], which no queue's RedrivePolicy.maxReceiveCount reads"},
	)
}

func TestFunctionsAreTraced(t *testing.T) {
	testRule(t, "FunctionsAreTraced", "untraced.yaml",
		offence{"WorkFunction", `Tracing is "PassThrough", not Active`},
		offence{"NotifyRole", `grants NotifyFunction no xray:PutTraceSegments on "*"`},
		offence{"NotifyRole", `grants NotifyFunction no xray:PutTelemetryRecords on "*"`},
	)
}
