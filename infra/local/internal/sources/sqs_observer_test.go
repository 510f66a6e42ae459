package sources

import (
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func TestOldestAgeIsFromSentTimestamp(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	sent := func(ms int64) types.Message {
		return types.Message{Attributes: map[string]string{"SentTimestamp": strconv.FormatInt(ms, 10)}}
	}
	batch := []types.Message{sent(999_000), sent(995_500), sent(999_900), {}}
	if got, want := oldestAge(batch, now), 4500*time.Millisecond; got != want {
		t.Errorf("oldestAge = %v; want %v (the oldest message, ignoring one without a timestamp)", got, want)
	}
}
