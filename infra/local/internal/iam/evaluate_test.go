package iam

import (
	"testing"
)

const (
	table  = "arn:aws:dynamodb:us-east-1:000000000000:table/jobs"
	queue  = "arn:aws:sqs:us-east-1:000000000000:jobs"
	bucket = "arn:aws:s3:::uploads"
)

// allow is a 2012-10-17 document with one Allow statement of actions on resources (JSON lists or
// strings, as written).
func allow(actions, resources string) string {
	return `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": ` + actions + `, "Resource": ` + resources + `}}`
}

func deny(actions, resources string) string {
	return `{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": ` + actions + `, "Resource": ` + resources + `}}`
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name     string
		policies []string
		action   string
		resource string
		ctx      map[string][]string
		want     Decision
	}{
		// The default: nothing allows, so the request is implicitly denied.
		{"no policies", nil, "dynamodb:GetItem", table, nil, ImplicitDeny},
		{"allowed action on its resource", []string{allow(`"dynamodb:GetItem"`, `"`+table+`"`)}, "dynamodb:GetItem", table, nil, Allow},
		{"action not allowed", []string{allow(`"dynamodb:GetItem"`, `"`+table+`"`)}, "dynamodb:PutItem", table, nil, ImplicitDeny},
		{"resource not allowed", []string{allow(`"dynamodb:GetItem"`, `"`+table+`"`)}, "dynamodb:GetItem", table + "-archive", nil, ImplicitDeny},
		{"index of an allowed table is another resource", []string{allow(`"dynamodb:Query"`, `"`+table+`"`)}, "dynamodb:Query", table + "/index/byOwner", nil, ImplicitDeny},
		{"one of several resources", []string{allow(`"sqs:SendMessage"`, `["`+table+`", "`+queue+`"]`)}, "sqs:SendMessage", queue, nil, Allow},

		// An explicit Deny wins over any Allow, in the same policy or another, in either order.
		{"deny in the same policy", []string{`{"Version": "2012-10-17", "Statement": [
			{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
			{"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "*"}]}`}, "dynamodb:DeleteItem", table, nil, ExplicitDeny},
		{"the allow still allows what the deny does not cover", []string{`{"Version": "2012-10-17", "Statement": [
			{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
			{"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "*"}]}`}, "dynamodb:GetItem", table, nil, Allow},
		{"deny in a later policy", []string{allow(`"*"`, `"*"`), deny(`"s3:DeleteObject"`, `"*"`)}, "s3:DeleteObject", bucket + "/a", nil, ExplicitDeny},
		{"deny in an earlier policy", []string{deny(`"s3:DeleteObject"`, `"*"`), allow(`"*"`, `"*"`)}, "s3:DeleteObject", bucket + "/a", nil, ExplicitDeny},
		{"a deny alone is no allow", []string{deny(`"s3:DeleteObject"`, `"*"`)}, "s3:GetObject", bucket + "/a", nil, ImplicitDeny},

		// NotAction and NotResource apply to everything they do not list.
		{"allow NotAction covers other actions", []string{`{"Version": "2012-10-17", "Statement":
			{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}}`}, "s3:GetObject", bucket + "/a", nil, Allow},
		{"allow NotAction leaves out what it lists", []string{`{"Version": "2012-10-17", "Statement":
			{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}}`}, "iam:CreateUser", "*", nil, ImplicitDeny},
		{"deny NotAction denies the rest", []string{allow(`"*"`, `"*"`), `{"Version": "2012-10-17", "Statement":
			{"Effect": "Deny", "NotAction": ["s3:GetObject"], "Resource": "*"}}`}, "s3:PutObject", bucket + "/a", nil, ExplicitDeny},
		{"deny NotAction spares what it lists", []string{allow(`"*"`, `"*"`), `{"Version": "2012-10-17", "Statement":
			{"Effect": "Deny", "NotAction": ["s3:GetObject"], "Resource": "*"}}`}, "s3:GetObject", bucket + "/a", nil, Allow},
		{"allow NotResource covers other resources", []string{`{"Version": "2012-10-17", "Statement":
			{"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::uploads/private/*"}}`}, "s3:GetObject", bucket + "/public/a", nil, Allow},
		{"allow NotResource leaves out what it lists", []string{`{"Version": "2012-10-17", "Statement":
			{"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::uploads/private/*"}}`}, "s3:GetObject", bucket + "/private/a", nil, ImplicitDeny},
		{"deny NotResource denies other resources", []string{allow(`"*"`, `"*"`), `{"Version": "2012-10-17", "Statement":
			{"Effect": "Deny", "Action": "dynamodb:*", "NotResource": "` + table + `"}}`}, "dynamodb:GetItem", table + "-other", nil, ExplicitDeny},
		{"deny NotResource spares its resource", []string{allow(`"*"`, `"*"`), `{"Version": "2012-10-17", "Statement":
			{"Effect": "Deny", "Action": "dynamodb:*", "NotResource": "` + table + `"}}`}, "dynamodb:GetItem", table, nil, Allow},

		// Action wildcards, case-insensitive.
		{"s3:Get* covers GetObject", []string{allow(`"s3:Get*"`, `"*"`)}, "s3:GetObject", bucket + "/a", nil, Allow},
		{"s3:Get* covers GetObjectTagging", []string{allow(`"s3:Get*"`, `"*"`)}, "s3:GetObjectTagging", bucket + "/a", nil, Allow},
		{"s3:Get* does not cover PutObject", []string{allow(`"s3:Get*"`, `"*"`)}, "s3:PutObject", bucket + "/a", nil, ImplicitDeny},
		{"dynamodb:* covers the service", []string{allow(`"dynamodb:*"`, `"*"`)}, "dynamodb:TransactWriteItems", table, nil, Allow},
		{"dynamodb:* does not cover another service", []string{allow(`"dynamodb:*"`, `"*"`)}, "dynamodbstreams:GetRecords", table, nil, ImplicitDeny},
		{"* covers every action", []string{allow(`"*"`, `"*"`)}, "kms:Decrypt", "arn:aws:kms:us-east-1:000000000000:key/1", nil, Allow},
		{"? is one character", []string{allow(`"sqs:?endMessage"`, `"*"`)}, "sqs:SendMessage", queue, nil, Allow},
		{"? is exactly one character", []string{allow(`"sqs:?endMessage"`, `"*"`)}, "sqs:ResendMessage", queue, nil, ImplicitDeny},
		{"wildcard in the middle", []string{allow(`"s3:*Object"`, `"*"`)}, "s3:DeleteObject", bucket + "/a", nil, Allow},
		{"wildcard in the middle must match the end", []string{allow(`"s3:*Object"`, `"*"`)}, "s3:DeleteObjectTagging", bucket + "/a", nil, ImplicitDeny},
		{"action case does not matter", []string{allow(`"DynamoDB:getitem"`, `"`+table+`"`)}, "dynamodb:GetItem", table, nil, Allow},
		{"action wildcard case does not matter", []string{allow(`"s3:get*"`, `"*"`)}, "S3:GETOBJECT", bucket + "/a", nil, Allow},
		{"resource case matters", []string{allow(`"dynamodb:GetItem"`, `"arn:aws:dynamodb:us-east-1:000000000000:table/Jobs"`)}, "dynamodb:GetItem", table, nil, ImplicitDeny},

		// Resource wildcards.
		{"prefix/* covers a key under it", []string{allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/prefix/*"`)}, "s3:GetObject", bucket + "/prefix/a.txt", nil, Allow},
		{"prefix/* covers nested keys", []string{allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/prefix/*"`)}, "s3:GetObject", bucket + "/prefix/a/b/c.txt", nil, Allow},
		{"prefix/* covers the empty rest", []string{allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/prefix/*"`)}, "s3:GetObject", bucket + "/prefix/", nil, Allow},
		{"prefix/* does not cover the bucket", []string{allow(`"s3:ListBucket"`, `"arn:aws:s3:::uploads/prefix/*"`)}, "s3:ListBucket", bucket, nil, ImplicitDeny},
		{"prefix/* does not cover prefixx/", []string{allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/prefix/*"`)}, "s3:GetObject", bucket + "/prefixx/a", nil, ImplicitDeny},
		{"prefix/* does not cover prefix without its slash", []string{allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/prefix/*"`)}, "s3:GetObject", bucket + "/prefix", nil, ImplicitDeny},
		{"bucket/* does not cover another bucket with the same start", []string{allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/*"`)}, "s3:GetObject", "arn:aws:s3:::uploads-archive/a", nil, ImplicitDeny},
		{"? in a resource", []string{allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/v?/a"`)}, "s3:GetObject", bucket + "/v2/a", nil, Allow},
		{"* resource covers a resource-less request", []string{allow(`"sts:GetCallerIdentity"`, `"*"`)}, "sts:GetCallerIdentity", "*", nil, Allow},
		{"wildcard region", []string{allow(`"sqs:SendMessage"`, `"arn:aws:sqs:*:000000000000:jobs"`)}, "sqs:SendMessage", queue, nil, Allow},
		{"wildcard region and account", []string{allow(`"sqs:SendMessage"`, `"arn:aws:sqs:*:*:jobs"`)}, "sqs:SendMessage", queue, nil, Allow},
		{"wildcard account does not cover another queue", []string{allow(`"sqs:SendMessage"`, `"arn:aws:sqs:*:*:jobs"`)}, "sqs:SendMessage", queue + "-dlq", nil, ImplicitDeny},
		{"wildcard within a segment", []string{allow(`"sqs:SendMessage"`, `"arn:aws:sqs:us-*-1:000000000000:jobs"`)}, "sqs:SendMessage", queue, nil, Allow},
		{"partition wildcard", []string{allow(`"sqs:SendMessage"`, `"arn:*:sqs:us-east-1:000000000000:jobs"`)}, "sqs:SendMessage", queue, nil, Allow},
		// The IAM documentation's example: a * in the resource part spans slashes.
		{"*/test/* one level", []string{allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/*/test/*"`)}, "s3:GetObject", bucket + "/1/test/object.jpg", nil, Allow},
		{"*/test/* two levels", []string{allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/*/test/*"`)}, "s3:GetObject", bucket + "/1/2/test/3/object.jpg", nil, Allow},
		{"*/test/* empty parts", []string{allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/*/test/*"`)}, "s3:GetObject", bucket + "//test/object.jpg", nil, Allow},
		{"*/test/* needs /test/", []string{allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/*/test/*"`)}, "s3:GetObject", bucket + "/1-test/object.jpg", nil, ImplicitDeny},
		{"*/test/* needs something before /test/", []string{allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/*/test/*"`)}, "s3:GetObject", bucket + "/test/object.jpg", nil, ImplicitDeny},
		{"*/test/* needs the slash after test", []string{allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/*/test/*"`)}, "s3:GetObject", bucket + "/1/2/test.jpg", nil, ImplicitDeny},
		{"a * ending a segment runs past colons", []string{allow(`"s3:GetObject"`, `"arn:aws:someservice:*:111122223333:finance/*"`)},
			"s3:GetObject", "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt", nil, Allow},
		{"a * inside a segment stops at a colon", []string{allow(`"sqs:SendMessage"`, `"arn:aws:sqs:*-1:000000000000:jobs"`)},
			"sqs:SendMessage", "arn:aws:sqs:us:east-1:000000000000:jobs", nil, ImplicitDeny},
		{"the resource part spans colons", []string{allow(`"logs:PutLogEvents"`, `"arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/app:*"`)},
			"logs:PutLogEvents", "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/app:log-stream:2026/01/01", nil, Allow},

		// Policy variables (2012-10-17 only).
		{"variable from the request", []string{allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/${aws:SourceAccount}/*"`)},
			"s3:GetObject", bucket + "/111122223333/a", map[string][]string{"aws:SourceAccount": {"111122223333"}}, Allow},
		{"variable with another value", []string{allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/${aws:SourceAccount}/*"`)},
			"s3:GetObject", bucket + "/999999999999/a", map[string][]string{"aws:SourceAccount": {"111122223333"}}, ImplicitDeny},
		{"variable with no value matches nothing", []string{allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/${aws:SourceAccount}*"`)},
			"s3:GetObject", bucket + "/a", nil, ImplicitDeny},
		{"variable with no value takes its default", []string{allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/${aws:SourceAccount, 'shared'}/*"`)},
			"s3:GetObject", bucket + "/shared/a", nil, Allow},
		{"variable value is literal", []string{allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/${s3:prefix}"`)},
			"s3:GetObject", bucket + "/ab", map[string][]string{"s3:prefix": {"a*"}}, ImplicitDeny},
		{"${*} is a literal asterisk", []string{allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/star${*}"`)}, "s3:GetObject", bucket + "/star*", nil, Allow},
		{"${*} is no wildcard", []string{allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/star${*}"`)}, "s3:GetObject", bucket + "/starry", nil, ImplicitDeny},
		{"${?} is a literal question mark", []string{allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/why${?}"`)}, "s3:GetObject", bucket + "/why?", nil, Allow},
		{"${?} is no wildcard", []string{allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/why${?}"`)}, "s3:GetObject", bucket + "/whys", nil, ImplicitDeny},
		{"${$} is a literal dollar", []string{allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/${$}5"`)}, "s3:GetObject", bucket + "/$5", nil, Allow},
		{"2008 language: ${...} is literal text", []string{`{"Version": "2008-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject",
			"Resource": "arn:aws:s3:::uploads/${aws:SourceAccount}/*"}}`},
			"s3:GetObject", bucket + "/111122223333/a", map[string][]string{"aws:SourceAccount": {"111122223333"}}, ImplicitDeny},
		{"2008 language: the literal text matches itself", []string{`{"Statement": {"Effect": "Allow", "Action": "s3:GetObject",
			"Resource": "arn:aws:s3:::uploads/${aws:SourceAccount}/*"}}`},
			"s3:GetObject", bucket + "/${aws:SourceAccount}/a", nil, Allow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var policies []Policy
			for _, doc := range tt.policies {
				policies = append(policies, mustPolicy(t, doc))
			}
			req := Request{Action: tt.action, Resource: tt.resource, Context: tt.ctx}
			if got := Evaluate(req, policies...); got != tt.want {
				t.Errorf("Evaluate(%s on %s): got %v, want %v", tt.action, tt.resource, got, tt.want)
			}
		})
	}
}

// TestTLSOnlyDeny checks the DenyPlainHTTP bucket policy of template.yaml: with an identity policy
// that allows the read, an HTTP request is denied and an HTTPS one allowed.
func TestTLSOnlyDeny(t *testing.T) {
	bucketPolicy := mustPolicy(t, `{"Version": "2012-10-17", "Statement": [{"Sid": "DenyPlainHTTP", "Effect": "Deny",
		"Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::uploads", "arn:aws:s3:::uploads/*"],
		"Condition": {"Bool": {"aws:SecureTransport": false}}}]}`)
	identity := []Policy{mustPolicy(t, allow(`"s3:GetObject"`, `"arn:aws:s3:::uploads/uploads/*"`))}
	role := "arn:aws:sts::000000000000:assumed-role/app-DownloadUploadFunctionRole-X/app-DownloadUploadFunction"
	tests := []struct {
		name string
		ctx  map[string][]string
		want Decision
	}{
		{"http", map[string][]string{"aws:SecureTransport": {"false"}}, ExplicitDeny},
		{"https", map[string][]string{"aws:SecureTransport": {"true"}}, Allow},
		{"key in another case", map[string][]string{"AWS:SECURETRANSPORT": {"false"}}, ExplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::uploads/uploads/a.png", Context: tt.ctx}
			if got := EvaluateWithResourcePolicy(req, role, identity, &bucketPolicy); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			// The same deny applies whoever asks: also to a principal with no identity policy.
			if got := EvaluateWithResourcePolicy(req, "", nil, &bucketPolicy); tt.want == ExplicitDeny && got != ExplicitDeny {
				t.Errorf("anonymous: got %v, want %v", got, ExplicitDeny)
			}
		})
	}
}

func TestEvaluateWithResourcePolicy(t *testing.T) {
	const (
		roleARN = "arn:aws:iam::000000000000:role/app-WorkFunctionRole-ABC"
		session = "arn:aws:sts::000000000000:assumed-role/app-WorkFunctionRole-ABC/app-WorkFunction"
		topic   = "arn:aws:sns:us-east-1:000000000000:events"
	)
	// resource is a queue policy with one statement of effect for principal (a JSON value).
	resource := func(effect, principal string) string {
		return `{"Version": "2012-10-17", "Statement": {"Effect": "` + effect + `", "Principal": ` + principal +
			`, "Action": "sqs:SendMessage", "Resource": "` + queue + `"}}`
	}
	identityAllows := allow(`"sqs:SendMessage"`, `"`+queue+`"`)
	identityDenies := deny(`"sqs:*"`, `"*"`)
	tests := []struct {
		name      string
		identity  []string
		resource  string
		principal string
		ctx       map[string][]string
		want      Decision
	}{
		{"identity alone allows", []string{identityAllows}, "", session, nil, Allow},
		{"nothing allows", nil, "", session, nil, ImplicitDeny},
		{"resource policy for everyone allows alone", nil, resource("Allow", `"*"`), session, nil, Allow},
		{"resource policy for AWS * allows alone", nil, resource("Allow", `{"AWS": "*"}`), session, nil, Allow},
		{"resource policy naming the session", nil, resource("Allow", `{"AWS": "`+session+`"}`), session, nil, Allow},
		{"resource policy naming the role covers its sessions", nil, resource("Allow", `{"AWS": "`+roleARN+`"}`), session, nil, Allow},
		{"resource policy naming the role by its ARN", nil, resource("Allow", `{"AWS": "`+roleARN+`"}`), roleARN, nil, Allow},
		{"a role with a path covers its sessions", nil, resource("Allow", `{"AWS": "arn:aws:iam::000000000000:role/service-role/app-WorkFunctionRole-ABC"}`), session, nil, Allow},
		{"resource policy naming another role", nil, resource("Allow", `{"AWS": "arn:aws:iam::000000000000:role/other"}`), session, nil, ImplicitDeny},
		{"resource policy naming a role of the same name in another account", nil, resource("Allow", `{"AWS": "arn:aws:iam::111122223333:role/app-WorkFunctionRole-ABC"}`), session, nil, ImplicitDeny},
		{"resource policy naming another session of the role", nil, resource("Allow", `{"AWS": "arn:aws:sts::000000000000:assumed-role/app-WorkFunctionRole-ABC/other"}`), session, nil, ImplicitDeny},
		{"an allow to the account delegates to identity policies", nil, resource("Allow", `{"AWS": "000000000000"}`), session, nil, ImplicitDeny},
		{"a deny to the account covers its principals", []string{identityAllows}, resource("Deny", `{"AWS": "arn:aws:iam::000000000000:root"}`), session, nil, ExplicitDeny},
		{"a deny to another account does not", []string{identityAllows}, resource("Deny", `{"AWS": "111122223333"}`), session, nil, Allow},
		{"resource deny beats identity allow", []string{identityAllows}, resource("Deny", `"*"`), session, nil, ExplicitDeny},
		{"identity deny beats resource allow", []string{identityDenies}, resource("Allow", `"*"`), session, nil, ExplicitDeny},
		{"a deny to another principal does not apply", []string{identityAllows}, resource("Deny", `{"AWS": "arn:aws:iam::000000000000:role/other"}`), session, nil, Allow},
		{"service principal", nil, resource("Allow", `{"Service": "sns.amazonaws.com"}`), "service:sns.amazonaws.com", nil, Allow},
		{"service principal does not cover a role", nil, resource("Allow", `{"Service": "sns.amazonaws.com"}`), session, nil, ImplicitDeny},
		{"anonymous is covered by * only", nil, resource("Allow", `{"AWS": "`+roleARN+`"}`), "", nil, ImplicitDeny},
		// LedgerAuditQueuePolicy of template.yaml: SNS may deliver from the one topic.
		{"SNS from the named topic", nil, `{"Statement": {"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
			"Action": "sqs:SendMessage", "Resource": "` + queue + `", "Condition": {"ArnEquals": {"aws:SourceArn": "` + topic + `"}}}}`,
			"service:sns.amazonaws.com", map[string][]string{"aws:SourceArn": {topic}}, Allow},
		{"SNS from another topic", nil, `{"Statement": {"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
			"Action": "sqs:SendMessage", "Resource": "` + queue + `", "Condition": {"ArnEquals": {"aws:SourceArn": "` + topic + `"}}}}`,
			"service:sns.amazonaws.com", map[string][]string{"aws:SourceArn": {topic + "-other"}}, ImplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var identity []Policy
			for _, doc := range tt.identity {
				identity = append(identity, mustPolicy(t, doc))
			}
			var res *Policy
			if tt.resource != "" {
				p := mustPolicy(t, tt.resource)
				res = &p
			}
			req := Request{Action: "sqs:SendMessage", Resource: queue, Context: tt.ctx}
			if got := EvaluateWithResourcePolicy(req, tt.principal, identity, res); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAuthorizeNamesTheStatement(t *testing.T) {
	identity := []Policy{
		{Source: "WorkRole inline policy jobs", Version: Version2012, Statements: []Statement{
			{Effect: EffectAllow, Actions: []string{"sqs:ReceiveMessage"}, Resources: []string{"*"}},
			{Sid: "Send", Effect: EffectAllow, Actions: []string{"sqs:SendMessage"}, Resources: []string{"*"}},
		}},
	}
	resource := &Policy{Source: "JobsQueuePolicy", Version: Version2012, Statements: []Statement{
		{Sid: "NoPurge", Effect: EffectDeny, Principals: []string{"*"}, Actions: []string{"sqs:PurgeQueue"}, Resources: []string{"*"}},
	}}
	tests := []struct {
		action string
		want   Verdict
		text   string
	}{
		{"sqs:SendMessage", Verdict{Decision: Allow, Source: "WorkRole inline policy jobs", Statement: 1, Sid: "Send"},
			"allow by WorkRole inline policy jobs statement 1 (Send)"},
		{"sqs:ReceiveMessage", Verdict{Decision: Allow, Source: "WorkRole inline policy jobs", Statement: 0},
			"allow by WorkRole inline policy jobs statement 0"},
		{"sqs:PurgeQueue", Verdict{Decision: ExplicitDeny, Source: "JobsQueuePolicy", Statement: 0, Sid: "NoPurge"},
			"explicit deny by JobsQueuePolicy statement 0 (NoPurge)"},
		{"sqs:DeleteQueue", Verdict{Decision: ImplicitDeny}, "implicit deny: no statement allows it"},
	}
	for _, tt := range tests {
		got := Authorize(Request{Action: tt.action, Resource: queue}, "", identity, resource)
		if got != tt.want {
			t.Errorf("Authorize(%s): got %+v, want %+v", tt.action, got, tt.want)
		}
		if got.String() != tt.text {
			t.Errorf("Authorize(%s).String(): got %q, want %q", tt.action, got.String(), tt.text)
		}
	}
}

func TestDecisionString(t *testing.T) {
	tests := []struct {
		d    Decision
		want string
	}{
		{ImplicitDeny, "implicit deny"},
		{Allow, "allow"},
		{ExplicitDeny, "explicit deny"},
		{Decision(7), "Decision(7)"},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.want {
			t.Errorf("Decision(%d).String(): got %q, want %q", int(tt.d), got, tt.want)
		}
	}
}
