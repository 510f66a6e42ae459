package template

import "testing"

func TestFunctionsAreAlarmed(t *testing.T) {
	testRule(t, "FunctionsAreAlarmed", "function-without-alarms.yaml",
		offence{"HelloFunction", "function has no AWS::CloudWatch::Alarm on the rate IF(<Invocations id> > 0"},
		offence{"HelloFunction", "function has no AWS::CloudWatch::Alarm on AWS/Lambda Throttles with dimension FunctionName !Ref HelloFunction"},
		offence{"WorkFunction", "function has no AWS::CloudWatch::Alarm on the rate"},
		offence{"WorkFunction", "is watched by WorkThrottlesAlarm, which does not set TreatMissingData"},
		offence{"NotifyFunction", "function invoked asynchronously has no AWS::CloudWatch::Alarm on AWS/Lambda AsyncEventAge"},
		offence{"NotifyFunction", "function invoked asynchronously is watched by NotifyAsyncEventsDroppedAlarm, which has no AlarmActions"},
		offence{"ProjectFunction", "alarm ProjectThrottlesAlarm has Threshold 5, want 0"},
		offence{"ProjectFunction", `alarm ProjectErrorsAlarm has TreatMissingData "breaching", want notBreaching`},
		offence{"ProjectFunction", "alarm ProjectErrorsAlarm has Period 60, want 300"},
	)
}

func TestAPIsAreAlarmed(t *testing.T) {
	testRule(t, "APIsAreAlarmed", "api-without-alarms.yaml",
		offence{"HttpApi", "HttpApi has no AWS::CloudWatch::Alarm on the rate IF(<Count id> > 0, 100 * <5xx id> / <Count id>, 0)"},
		offence{"HttpApi", `alarm HttpApiLatencyAlarm has statistic "p90", want p99`},
		offence{"HttpApi", "alarm HttpApiLatencyAlarm has no Stage dimension"},
	)
}

func TestQueuesAreAlarmed(t *testing.T) {
	testRule(t, "QueuesAreAlarmed", "queue-without-age-alarm.yaml",
		offence{"WorkQueue", "queue feeding WorkFunction has no AWS::CloudWatch::Alarm on AWS/SQS ApproximateAgeOfOldestMessage with dimension QueueName !GetAtt WorkQueue.QueueName"},
	)
	testFixture(t, "QueuesAreAlarmed", "queue-age-threshold.yaml",
		offence{"WorkQueue", "alarm WorkQueueAgeAlarm has Threshold 60, want maxReceiveCount (3) × VisibilityTimeout (60) = 180"},
	)
}

func TestStreamsAreAlarmed(t *testing.T) {
	testRule(t, "StreamsAreAlarmed", "stream-without-alarm.yaml",
		offence{"ProjectFunction", "function fed by a stream (DynamoDB event Items) has no AWS::CloudWatch::Alarm on AWS/Lambda IteratorAge"},
	)
}
