package uploads

import "github.com/go-serverless/reference/shared/metrics"

// Namespace is the CloudWatch namespace of the uploads metrics (dimension Service=uploads).
const Namespace = "GoServerless/Uploads"

// The business metrics of the pattern, each a Count recorded by the verification whose write
// decided the upload (a duplicate notification counts nothing).
const (
	MetricAccepted = "UploadsAccepted" // the object matched its declaration: AVAILABLE
	MetricRejected = "UploadsRejected" // it did not: deleted, REJECTED
)

// Metrics records business metrics; *metrics.Collector is one, flushed once per invocation.
type Metrics interface {
	Add(name string, unit metrics.Unit, v float64)
}
