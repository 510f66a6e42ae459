// Package metrics writes business metrics as CloudWatch Embedded Metric Format (EMF) lines.
//
// EMF is a JSON log line that CloudWatch Logs turns into metrics as it ingests the function's
// log group, so a function emits metrics with no PutMetricData call (no latency, no extra IAM
// permission, no throttled API) in its request path. A Collector gathers one invocation's values
// and Flush writes them as one line (or a few, past EMF's 100 metrics or 100 values per metric);
// Flushed wraps a Lambda handler so that happens once per invocation, on error too.
//
// Dimensions are fixed when the Collector is made and must stay low-cardinality (Service, an
// engine name): every distinct set of dimension values is a metric of its own, billed as one.
// What varies per request (an id, a route) belongs in a Property, searchable in Logs Insights.
//
// Specification: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
package metrics
