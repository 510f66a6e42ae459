package iam

import (
	"testing"
)

// ctx builds a request context from key, values, key, values, ...
func ctx(kv ...any) map[string][]string {
	m := map[string][]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].([]string)
	}
	return m
}

func TestConditions(t *testing.T) {
	const (
		topic   = "arn:aws:sns:us-east-1:000000000000:events"
		sseKey  = "s3:x-amz-server-side-encryption"
		attrs   = "dynamodb:Attributes"
		account = "aws:SourceAccount"
	)
	one := func(v string) []string { return []string{v} }
	tests := []struct {
		name      string
		condition string // the Condition block, as JSON
		ctx       map[string][]string
		want      bool
	}{
		// String operators: exact and case-sensitive, unless IgnoreCase; values OR'd.
		{"StringEquals match", `{"StringEquals": {"s3:prefix": "home/"}}`, ctx("s3:prefix", one("home/")), true},
		{"StringEquals other case", `{"StringEquals": {"s3:prefix": "home/"}}`, ctx("s3:prefix", one("Home/")), false},
		{"StringEquals takes * literally", `{"StringEquals": {"s3:prefix": "home/*"}}`, ctx("s3:prefix", one("home/a")), false},
		{"StringEquals missing key", `{"StringEquals": {"s3:prefix": "home/"}}`, nil, false},
		{"StringEquals one of several values", `{"StringEquals": {"s3:prefix": ["a/", "b/"]}}`, ctx("s3:prefix", one("b/")), true},
		{"StringEquals none of several values", `{"StringEquals": {"s3:prefix": ["a/", "b/"]}}`, ctx("s3:prefix", one("c/")), false},
		{"StringNotEquals other value", `{"StringNotEquals": {"s3:prefix": "home/"}}`, ctx("s3:prefix", one("tmp/")), true},
		{"StringNotEquals same value", `{"StringNotEquals": {"s3:prefix": "home/"}}`, ctx("s3:prefix", one("home/")), false},
		{"StringNotEquals missing key holds", `{"StringNotEquals": {"s3:prefix": "home/"}}`, nil, true},
		{"StringNotEquals must differ from every value", `{"StringNotEquals": {"s3:prefix": ["a/", "b/"]}}`, ctx("s3:prefix", one("b/")), false},
		{"StringNotEquals differs from every value", `{"StringNotEquals": {"s3:prefix": ["a/", "b/"]}}`, ctx("s3:prefix", one("c/")), true},
		{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase": {"s3:prefix": "HOME/"}}`, ctx("s3:prefix", one("home/")), true},
		{"StringEqualsIgnoreCase other value", `{"StringEqualsIgnoreCase": {"s3:prefix": "HOME/"}}`, ctx("s3:prefix", one("homes/")), false},
		{"StringNotEqualsIgnoreCase same but case", `{"StringNotEqualsIgnoreCase": {"s3:prefix": "HOME/"}}`, ctx("s3:prefix", one("home/")), false},
		{"StringNotEqualsIgnoreCase missing key holds", `{"StringNotEqualsIgnoreCase": {"s3:prefix": "HOME/"}}`, nil, true},
		{"StringLike *", `{"StringLike": {"s3:prefix": "home/*"}}`, ctx("s3:prefix", one("home/a/b")), true},
		{"StringLike * must match the start", `{"StringLike": {"s3:prefix": "home/*"}}`, ctx("s3:prefix", one("homer/a")), false},
		{"StringLike ?", `{"StringLike": {"s3:prefix": "ho?e/"}}`, ctx("s3:prefix", one("hose/")), true},
		{"StringLike case-sensitive", `{"StringLike": {"s3:prefix": "home/*"}}`, ctx("s3:prefix", one("HOME/a")), false},
		{"StringLike * spans colons", `{"StringLike": {"aws:SourceArn": "arn:aws:someservice:*:111122223333:finance/*"}}`,
			ctx("aws:SourceArn", one("arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt")), true},
		{"StringLike missing key", `{"StringLike": {"s3:prefix": "*"}}`, nil, false},
		{"StringNotLike other value", `{"StringNotLike": {"s3:prefix": "home/*"}}`, ctx("s3:prefix", one("tmp/a")), true},
		{"StringNotLike matching value", `{"StringNotLike": {"s3:prefix": "home/*"}}`, ctx("s3:prefix", one("home/a")), false},
		{"StringNotLike missing key holds", `{"StringNotLike": {"s3:prefix": "home/*"}}`, nil, true},

		// ARN operators: each of the six components matched on its own.
		{"ArnEquals", `{"ArnEquals": {"aws:SourceArn": "` + topic + `"}}`, ctx("aws:SourceArn", one(topic)), true},
		{"ArnEquals other topic", `{"ArnEquals": {"aws:SourceArn": "` + topic + `"}}`, ctx("aws:SourceArn", one(topic+"-2")), false},
		{"ArnEquals takes wildcards like ArnLike", `{"ArnEquals": {"aws:SourceArn": "arn:aws:sns:*:000000000000:events"}}`, ctx("aws:SourceArn", one(topic)), true},
		{"ArnLike wildcard region", `{"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:000000000000:*"}}`, ctx("aws:SourceArn", one(topic)), true},
		{"ArnLike wildcard does not span colons", `{"ArnLike": {"aws:SourceArn": "arn:aws:someservice:*:111122223333:finance/*"}}`,
			ctx("aws:SourceArn", one("arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt")), false},
		{"ArnLike missing key", `{"ArnLike": {"aws:SourceArn": "*"}}`, nil, false},
		{"ArnNotEquals same topic", `{"ArnNotEquals": {"aws:SourceArn": "` + topic + `"}}`, ctx("aws:SourceArn", one(topic)), false},
		{"ArnNotEquals other topic", `{"ArnNotEquals": {"aws:SourceArn": "` + topic + `"}}`, ctx("aws:SourceArn", one(topic+"-2")), true},
		{"ArnNotEquals missing key holds", `{"ArnNotEquals": {"aws:SourceArn": "` + topic + `"}}`, nil, true},
		{"ArnNotLike matching", `{"ArnNotLike": {"aws:SourceArn": "arn:aws:sns:*:*:events"}}`, ctx("aws:SourceArn", one(topic)), false},
		{"ArnNotLike missing key holds", `{"ArnNotLike": {"aws:SourceArn": "arn:aws:sns:*:*:events"}}`, nil, true},

		// Numeric operators.
		{"NumericEquals", `{"NumericEquals": {"s3:max-keys": 10}}`, ctx("s3:max-keys", one("10.0")), true},
		{"NumericEquals other", `{"NumericEquals": {"s3:max-keys": 10}}`, ctx("s3:max-keys", one("11")), false},
		{"NumericEquals not a number", `{"NumericEquals": {"s3:max-keys": 10}}`, ctx("s3:max-keys", one("ten")), false},
		{"NumericNotEquals same", `{"NumericNotEquals": {"s3:max-keys": "10"}}`, ctx("s3:max-keys", one("10")), false},
		{"NumericNotEquals other", `{"NumericNotEquals": {"s3:max-keys": "10"}}`, ctx("s3:max-keys", one("9")), true},
		{"NumericNotEquals missing key holds", `{"NumericNotEquals": {"s3:max-keys": "10"}}`, nil, true},
		{"NumericLessThan below", `{"NumericLessThan": {"s3:max-keys": 10}}`, ctx("s3:max-keys", one("9")), true},
		{"NumericLessThan equal", `{"NumericLessThan": {"s3:max-keys": 10}}`, ctx("s3:max-keys", one("10")), false},
		{"NumericLessThanEquals equal", `{"NumericLessThanEquals": {"s3:max-keys": 10}}`, ctx("s3:max-keys", one("10")), true},
		{"NumericLessThanEquals above", `{"NumericLessThanEquals": {"s3:max-keys": 10}}`, ctx("s3:max-keys", one("11")), false},
		{"NumericLessThanEquals missing key", `{"NumericLessThanEquals": {"s3:max-keys": 10}}`, nil, false},
		{"NumericGreaterThan equal", `{"NumericGreaterThan": {"s3:signatureAge": 600000}}`, ctx("s3:signatureAge", one("600000")), false},
		{"NumericGreaterThan above", `{"NumericGreaterThan": {"s3:signatureAge": 600000}}`, ctx("s3:signatureAge", one("600001")), true},
		{"NumericGreaterThanEquals equal", `{"NumericGreaterThanEquals": {"s3:signatureAge": 1.5}}`, ctx("s3:signatureAge", one("1.5")), true},
		{"NumericGreaterThanEquals below", `{"NumericGreaterThanEquals": {"s3:signatureAge": 1.5}}`, ctx("s3:signatureAge", one("1.4")), false},

		// Bool: true and false, as a JSON bool or a string.
		{"Bool false on false", `{"Bool": {"aws:SecureTransport": false}}`, ctx("aws:SecureTransport", one("false")), true},
		{"Bool false on true", `{"Bool": {"aws:SecureTransport": false}}`, ctx("aws:SecureTransport", one("true")), false},
		{"Bool \"true\" on true", `{"Bool": {"aws:SecureTransport": "true"}}`, ctx("aws:SecureTransport", one("true")), true},
		{"Bool true on false", `{"Bool": {"aws:SecureTransport": true}}`, ctx("aws:SecureTransport", one("false")), false},
		{"Bool missing key", `{"Bool": {"aws:SecureTransport": false}}`, nil, false},

		// Null: true asks for the key to be absent, false for it to be present.
		{"Null true, absent", `{"Null": {"` + sseKey + `": true}}`, nil, true},
		{"Null true, present", `{"Null": {"` + sseKey + `": true}}`, ctx(sseKey, one("aws:kms")), false},
		{"Null false, present", `{"Null": {"` + sseKey + `": "false"}}`, ctx(sseKey, one("aws:kms")), true},
		{"Null false, absent", `{"Null": {"` + sseKey + `": "false"}}`, nil, false},
		{"Null key with no values is absent", `{"Null": {"` + sseKey + `": true}}`, ctx(sseKey, []string{}), true},

		// ...IfExists: a missing key satisfies the condition; a present one is tested.
		{"StringEqualsIfExists missing", `{"StringEqualsIfExists": {"s3:prefix": "home/"}}`, nil, true},
		{"StringEqualsIfExists present and equal", `{"StringEqualsIfExists": {"s3:prefix": "home/"}}`, ctx("s3:prefix", one("home/")), true},
		{"StringEqualsIfExists present and other", `{"StringEqualsIfExists": {"s3:prefix": "home/"}}`, ctx("s3:prefix", one("tmp/")), false},
		{"StringNotEqualsIfExists missing", `{"StringNotEqualsIfExists": {"s3:prefix": "home/"}}`, nil, true},
		{"StringNotEqualsIfExists present and equal", `{"StringNotEqualsIfExists": {"s3:prefix": "home/"}}`, ctx("s3:prefix", one("home/")), false},
		{"NumericLessThanIfExists missing", `{"NumericLessThanIfExists": {"s3:max-keys": 10}}`, nil, true},
		{"NumericLessThanIfExists present above", `{"NumericLessThanIfExists": {"s3:max-keys": 10}}`, ctx("s3:max-keys", one("20")), false},
		{"BoolIfExists missing", `{"BoolIfExists": {"aws:SecureTransport": true}}`, nil, true},
		{"ArnLikeIfExists missing", `{"ArnLikeIfExists": {"aws:SourceArn": "arn:aws:sns:*:*:x"}}`, nil, true},

		// Set qualifiers, with the IAM documentation's dynamodb:Attributes examples.
		{"ForAnyValue one matches", `{"ForAnyValue:StringEquals": {"` + attrs + `": ["ID", "PostDateTime"]}}`, ctx(attrs, []string{"PostDateTime", "Message"}), true},
		{"ForAnyValue none matches", `{"ForAnyValue:StringEquals": {"` + attrs + `": ["ID", "PostDateTime"]}}`, ctx(attrs, []string{"UserName"}), false},
		{"ForAnyValue missing key", `{"ForAnyValue:StringEquals": {"` + attrs + `": ["ID", "PostDateTime"]}}`, nil, false},
		{"ForAnyValue IfExists missing key", `{"ForAnyValue:StringEqualsIfExists": {"` + attrs + `": ["ID"]}}`, nil, true},
		{"ForAllValues all listed", `{"ForAllValues:StringEquals": {"` + attrs + `": ["ID", "Message", "Tags"]}}`, ctx(attrs, []string{"Message", "Tags"}), true},
		{"ForAllValues one not listed", `{"ForAllValues:StringEquals": {"` + attrs + `": ["ID", "Message", "Tags"]}}`, ctx(attrs, []string{"Message", "UserName"}), false},
		{"ForAllValues missing key holds", `{"ForAllValues:StringEquals": {"` + attrs + `": ["ID", "Message", "Tags"]}}`, nil, true},
		{"ForAllValues StringLike", `{"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["user-*"]}}`, ctx("dynamodb:LeadingKeys", []string{"user-1", "user-2"}), true},
		{"ForAllValues StringLike one outside", `{"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["user-*"]}}`, ctx("dynamodb:LeadingKeys", []string{"user-1", "admin"}), false},
		{"ForAnyValue StringNotEquals one outside the set", `{"ForAnyValue:StringNotEquals": {"` + attrs + `": ["a", "b"]}}`, ctx(attrs, []string{"a", "c"}), true},
		{"ForAnyValue StringNotEquals all inside the set", `{"ForAnyValue:StringNotEquals": {"` + attrs + `": ["a", "b"]}}`, ctx(attrs, []string{"a", "b"}), false},
		{"ForAnyValue StringNotEquals missing key", `{"ForAnyValue:StringNotEquals": {"` + attrs + `": ["a", "b"]}}`, nil, false},
		{"ForAllValues StringNotEquals none in the set", `{"ForAllValues:StringNotEquals": {"` + attrs + `": ["a", "b"]}}`, ctx(attrs, []string{"c", "d"}), true},
		{"ForAllValues StringNotEquals one in the set", `{"ForAllValues:StringNotEquals": {"` + attrs + `": ["a", "b"]}}`, ctx(attrs, []string{"c", "a"}), false},

		// Keys are case-insensitive, in the policy and in the request.
		{"policy key in lower case", `{"Bool": {"aws:securetransport": "false"}}`, ctx("aws:SecureTransport", one("false")), true},
		{"request key in upper case", `{"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}`, ctx("KMS:VIASERVICE", one("s3.us-east-1.amazonaws.com")), true},
		{"tag keys", `{"StringEquals": {"s3:RequestObjectTag/upload": "pending"}}`, ctx("s3:RequestObjectTag/upload", one("pending")), true},
		{"encryption context keys", `{"StringEquals": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::uploads"}}`,
			ctx("kms:EncryptionContext:aws:s3:arn", one("arn:aws:s3:::uploads")), true},

		// Every key and every operator must hold.
		{"two keys, both hold", `{"StringEquals": {"s3:prefix": "a/", "s3:delimiter": "/"}}`, ctx("s3:prefix", one("a/"), "s3:delimiter", one("/")), true},
		{"two keys, one fails", `{"StringEquals": {"s3:prefix": "a/", "s3:delimiter": "/"}}`, ctx("s3:prefix", one("a/"), "s3:delimiter", one("-")), false},
		{"two operators, both hold", `{"StringEquals": {"s3:prefix": "a/"}, "NumericLessThanEquals": {"s3:max-keys": 10}}`, ctx("s3:prefix", one("a/"), "s3:max-keys", one("5")), true},
		{"two operators, one fails", `{"StringEquals": {"s3:prefix": "a/"}, "NumericLessThanEquals": {"s3:max-keys": 10}}`, ctx("s3:prefix", one("a/"), "s3:max-keys", one("50")), false},

		// Policy variables in string values (2012-10-17).
		{"variable in StringLike", `{"StringLike": {"s3:prefix": "home/${aws:SourceAccount}/*"}}`, ctx("s3:prefix", one("home/111/a"), account, one("111")), true},
		{"variable with another value", `{"StringLike": {"s3:prefix": "home/${aws:SourceAccount}/*"}}`, ctx("s3:prefix", one("home/222/a"), account, one("111")), false},
		{"variable with no value matches nothing", `{"StringLike": {"s3:prefix": "home/${aws:SourceAccount}/*"}}`, ctx("s3:prefix", one("home/111/a")), false},
		{"negated operator on a variable with no value holds", `{"StringNotLike": {"s3:prefix": "home/${aws:SourceAccount}/*"}}`, ctx("s3:prefix", one("home/111/a")), true},
		{"variable in StringEquals", `{"StringEquals": {"aws:SourceAccount": "${kms:CallerAccount}"}}`, ctx(account, one("111"), "kms:CallerAccount", one("111")), true},
		{"${*} in StringLike is literal", `{"StringLike": {"s3:prefix": "a${*}"}}`, ctx("s3:prefix", one("ab")), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPolicy(t, `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": `+tt.condition+`}}`)
			want := ImplicitDeny
			if tt.want {
				want = Allow
			}
			if got := Evaluate(Request{Action: "s3:ListBucket", Resource: bucket, Context: tt.ctx}, p); got != want {
				t.Errorf("condition %s with context %v: got %v, want %v", tt.condition, tt.ctx, got, want)
			}
		})
	}
}

func TestConditionWithUnknownOperatorNeverHolds(t *testing.T) {
	// Hand-built, so ParsePolicy never saw it: the condition cannot hold, even negated.
	p := Policy{Statements: []Statement{{Effect: EffectAllow, Actions: []string{"*"}, Resources: []string{"*"},
		Conditions: []Condition{{Operator: "StringNotEqualz", Key: "s3:prefix", Values: []string{"a"}}}}}}
	if got := Evaluate(Request{Action: "s3:ListBucket", Resource: bucket}, p); got != ImplicitDeny {
		t.Errorf("got %v, want %v", got, ImplicitDeny)
	}
}
