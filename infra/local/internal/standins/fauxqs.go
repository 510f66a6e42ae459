package standins

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"
)

// StartFauxqs starts fauxqs, the SQS and SNS stand-in, on port (0 picks a free one) and
// returns once GET / answers 200. ctx bounds the wait, never longer than 30 s. Its output
// goes to logs (nil discards it); its own request logging is turned off.
//
// fauxqs listens on all interfaces whatever it is told: see the package doc.
func StartFauxqs(ctx context.Context, paths Paths, port int, logs io.Writer) (*Process, error) {
	if err := paths.missingFauxqs().err(); err != nil {
		return nil, fmt.Errorf("start fauxqs: %w", err)
	}
	return start(ctx, spec{
		name: "fauxqs",
		path: "node",
		args: func(int) []string { return []string{paths.FauxqsCLI} },
		env: func(port int) []string {
			return []string{"FAUXQS_PORT=" + strconv.Itoa(port), "FAUXQS_LOGGER=false"}
		},
		ready:        httpReady("/"),
		readyTimeout: 30 * time.Second,
	}, port, logs)
}
