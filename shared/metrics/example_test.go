package metrics_test

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/go-serverless/reference/shared/metrics"
)

func Example() {
	// At cold start: one collector for the function, flushed after each invocation.
	c := metrics.New(os.Stdout, "GoServerless/Jobs", metrics.Dimension{Name: "Service", Value: "jobs"})
	c.Now = func() time.Time { return time.UnixMilli(1765000000000) }
	handler := metrics.Flushed(c, slog.Default(), func(ctx context.Context, task string) (string, error) {
		c.Count("JobsSubmitted")
		return "accepted", nil
	})

	handler(context.Background(), "resize-image")
	// Output:
	// {"JobsSubmitted":1,"Service":"jobs","_aws":{"Timestamp":1765000000000,"CloudWatchMetrics":[{"Namespace":"GoServerless/Jobs","Dimensions":[["Service"]],"Metrics":[{"Name":"JobsSubmitted","Unit":"Count"}]}]}}
}
