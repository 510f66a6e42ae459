// The tests of the projection wired with the real publisher, snstopic.Publisher: package ledger
// cannot import snstopic in its own tests (snstopic imports ledger), so these are in ledger_test.
package ledger_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/go-serverless/reference/services/ledger/internal/ledger"
	"github.com/go-serverless/reference/services/ledger/internal/ledger/snstopic"
)

type fakeSNS struct{ inputs []*sns.PublishInput }

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.inputs = append(f.inputs, in)
	return &sns.PublishOutput{MessageId: aws.String("m1")}, nil
}

// TestProjectorPublishesAfterALostEvent runs the projector over a read model on DynamoDB Local
// with version 2 lost: version 3 is still projected and published, not failed for ever.
func TestProjectorPublishesAfterALostEvent(t *testing.T) {
	m := ledger.NewReadModel(t)
	pub := &fakeSNS{}
	p := ledger.Projector{ReadModel: m, Publisher: snstopic.Publisher{SNS: pub, TopicARN: "arn:topic"}}
	ctx := context.Background()
	v3 := ledger.Event{AccountID: "a1", Owner: "alice", Version: 3, Type: ledger.Deposited, Amount: 7, At: ledger.T0, BalanceAfter: new(int64(12))}
	for _, e := range []ledger.Event{ledger.OpenedEvent("a1", "alice"), v3} {
		if err := p.Project(ctx, e); err != nil {
			t.Fatalf("Project(version %d) = %v, want nil", e.Version, err)
		}
	}
	if len(pub.inputs) != 2 {
		t.Errorf("published %d events, want 2 (versions 1 and 3)", len(pub.inputs))
	}
}
