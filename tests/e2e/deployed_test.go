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
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/go-serverless/reference/tests/internal/stacktest"
)

// deployedStack reads the deployed stack name: its outputs and those of the stacks nested in it,
// one per service (the root template's AWS::Serverless::Application resources, JobsApp, ...,
// which CloudFormation deploys as AWS::CloudFormation::Stack). Tokens come from its Cognito
// user pool.
func deployedStack(ctx context.Context, name string) (*stack, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	cfn := cloudformation.NewFromConfig(cfg)
	root, err := stackOutputs(ctx, cfn, name)
	if err != nil {
		return nil, err
	}
	stacks, err := nestedStacks(ctx, cfn, name)
	if err != nil {
		return nil, err
	}
	nested := map[string]map[string]string{}
	for app, id := range stacks {
		if nested[app], err = stackOutputs(ctx, cfn, id); err != nil {
			return nil, fmt.Errorf("%s of stack %s: %w", app, name, err)
		}
	}
	outputs, err := stacktest.MergeOutputs(root, nested)
	if err != nil {
		return nil, fmt.Errorf("outputs of stack %s: %w", name, err)
	}
	users := newCognitoUsers(cfg, outputs["UserPoolId"], outputs["UserPoolClientId"])
	return &stack{
		outputs:      outputs,
		token:        users.token,
		sqs:          sqs.NewFromConfig(cfg),
		dynamodb:     dynamodb.NewFromConfig(cfg),
		s3:           s3.NewFromConfig(cfg),
		lambda:       lambda.NewFromConfig(cfg),
		functionName: stackResources{client: cfn, root: name, nested: stacks}.physicalID,
	}, nil
}

// stackOutputs returns a deployed stack's CloudFormation outputs by key; stack is its name or ID.
func stackOutputs(ctx context.Context, client *cloudformation.Client, stack string) (map[string]string, error) {
	out, err := client.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		return nil, fmt.Errorf("describe stack %s: %w", stack, err)
	}
	if len(out.Stacks) != 1 {
		return nil, fmt.Errorf("describe stack %s: %d stacks", stack, len(out.Stacks))
	}
	outputs := map[string]string{}
	for _, o := range out.Stacks[0].Outputs {
		outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return outputs, nil
}

// nestedStacks returns the IDs of the stacks nested in the stack name, by the logical ID of the
// resource that made each.
func nestedStacks(ctx context.Context, client *cloudformation.Client, name string) (map[string]string, error) {
	stacks := map[string]string{}
	pages := cloudformation.NewListStackResourcesPaginator(client, &cloudformation.ListStackResourcesInput{StackName: aws.String(name)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the resources of stack %s: %w", name, err)
		}
		for _, r := range page.StackResourceSummaries {
			if aws.ToString(r.ResourceType) == "AWS::CloudFormation::Stack" {
				stacks[aws.ToString(r.LogicalResourceId)] = aws.ToString(r.PhysicalResourceId)
			}
		}
	}
	return stacks, nil
}

// stackResources finds the physical IDs of the resources of a deployed stack's nested stacks.
type stackResources struct {
	client *cloudformation.Client
	root   string
	// nested are the IDs of the root's nested stacks by logical ID (nestedStacks).
	nested map[string]string
}

// physicalID returns the name CloudFormation gave the resource logicalID (a function's name) in
// the stack nested as app.
func (r stackResources) physicalID(t *testing.T, app, logicalID string) string {
	t.Helper()
	stack, ok := r.nested[app]
	if !ok {
		t.Fatalf("stack %s has no nested stack %s", r.root, app)
	}
	out, err := r.client.DescribeStackResource(context.Background(), &cloudformation.DescribeStackResourceInput{
		StackName: aws.String(stack), LogicalResourceId: aws.String(logicalID),
	})
	if err != nil {
		t.Fatalf("describe %s in stack %s (%s of %s): %v", logicalID, stack, app, r.root, err)
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
