package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// stackOutputs returns a deployed stack's CloudFormation outputs by key.
func stackOutputs(ctx context.Context, cfg aws.Config, name string) (map[string]string, error) {
	out, err := cloudformation.NewFromConfig(cfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("describe stack %s: %w", name, err)
	}
	if len(out.Stacks) != 1 {
		return nil, fmt.Errorf("describe stack %s: %d stacks", name, len(out.Stacks))
	}
	outputs := map[string]string{}
	for _, o := range out.Stacks[0].Outputs {
		outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return outputs, nil
}

// stackResources finds the physical IDs of a deployed stack's resources.
type stackResources struct {
	client *cloudformation.Client
	stack  string
}

func newStackResources(cfg aws.Config, stack string) stackResources {
	return stackResources{client: cloudformation.NewFromConfig(cfg), stack: stack}
}

// physicalID returns the name CloudFormation gave the resource logicalID (a function's name).
func (r stackResources) physicalID(t *testing.T, logicalID string) string {
	t.Helper()
	out, err := r.client.DescribeStackResource(context.Background(), &cloudformation.DescribeStackResourceInput{
		StackName: aws.String(r.stack), LogicalResourceId: aws.String(logicalID),
	})
	if err != nil {
		t.Fatalf("describe %s in stack %s: %v", logicalID, r.stack, err)
	}
	return aws.ToString(out.StackResourceDetail.PhysicalResourceId)
}

// cognitoUsers signs test users in to a deployed stack's user pool, creating them on first use.
// The app client allows ADMIN_USER_PASSWORD_AUTH for exactly this.
type cognitoUsers struct {
	client   *cip.Client
	poolID   string
	clientID string

	mu     sync.Mutex
	tokens map[string]string
}

func newCognitoUsers(cfg aws.Config, poolID, clientID string) *cognitoUsers {
	return &cognitoUsers{client: cip.NewFromConfig(cfg), poolID: poolID, clientID: clientID, tokens: map[string]string{}}
}

func (c *cognitoUsers) token(t *testing.T, user string, claims map[string]string) string {
	t.Helper()
	if len(claims) > 0 {
		t.Skip("custom claims need the user's attributes set in Cognito; this test runs on the local stack")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if tok, ok := c.tokens[user]; ok {
		return tok
	}
	ctx := context.Background()
	email := strings.ToLower(user) + "@e2e.example.com"
	password := "E2e-" + randomHex(12) + "-Aa1"
	_, err := c.client.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(c.poolID), Username: aws.String(email), MessageAction: ciptypes.MessageActionTypeSuppress,
	})
	var exists *ciptypes.UsernameExistsException
	if err != nil && !errors.As(err, &exists) {
		t.Fatalf("create test user %s: %v", email, err)
	}
	if _, err := c.client.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: aws.String(c.poolID), Username: aws.String(email), Password: aws.String(password), Permanent: true,
	}); err != nil {
		t.Fatalf("set password of %s: %v", email, err)
	}
	out, err := c.client.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{
		UserPoolId: aws.String(c.poolID), ClientId: aws.String(c.clientID),
		AuthFlow:       ciptypes.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": email, "PASSWORD": password},
	})
	if err != nil {
		t.Fatalf("sign in %s: %v", email, err)
	}
	tok := aws.ToString(out.AuthenticationResult.AccessToken)
	c.tokens[user] = tok
	return tok
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
