package provision

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-serverless/reference/infra/local/template"
)

// DynamoDB is the part of the DynamoDB API that provisioning calls.
type DynamoDB interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
	DescribeTimeToLive(ctx context.Context, in *dynamodb.DescribeTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
}

// tableActivePoll is how often a table that is not yet ACTIVE is described again.
// DynamoDB Local creates tables ACTIVE, so this is a safety net, not a wait.
const tableActivePoll = 100 * time.Millisecond

// tableProperties are the AWS::DynamoDB::Table properties a local table needs.
type tableProperties struct {
	TableName              string
	KeySchema              []keyElement
	AttributeDefinitions   []attributeDefinition
	BillingMode            string
	ProvisionedThroughput  *throughput
	GlobalSecondaryIndexes []secondaryIndex
	LocalSecondaryIndexes  []secondaryIndex
	StreamSpecification    *struct {
		StreamViewType string
	}
	TimeToLiveSpecification *struct {
		AttributeName string
		Enabled       flexBool
	}
}

type keyElement struct {
	AttributeName string
	KeyType       string
}

type attributeDefinition struct {
	AttributeName string
	AttributeType string
}

type throughput struct {
	ReadCapacityUnits  flexInt
	WriteCapacityUnits flexInt
}

type secondaryIndex struct {
	IndexName             string
	KeySchema             []keyElement
	Projection            projection
	ProvisionedThroughput *throughput
}

type projection struct {
	ProjectionType   string
	NonKeyAttributes []string
}

func (p *provisioner) table(ctx context.Context, r template.Resource) error {
	if p.clients.DynamoDB == nil {
		return errors.New("no DynamoDB client")
	}
	var props tableProperties
	if err := p.decodeProps(r, &props); err != nil {
		return err
	}
	in, err := createTableInput(props)
	if err != nil {
		return err
	}
	if in.TableName == nil {
		in.TableName = aws.String(p.generatedName(r, maxTableName))
	}
	name := *in.TableName

	_, err = p.clients.DynamoDB.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	desc, err := p.activeTable(ctx, name)
	if err != nil {
		return err
	}
	if ttl := props.TimeToLiveSpecification; ttl != nil && ttl.Enabled.b {
		if err := p.enableTTL(ctx, name, ttl.AttributeName); err != nil {
			return err
		}
	}

	t := Table{
		LogicalID: r.LogicalID,
		Name:      name,
		// DynamoDB Local answers with region "ddblocal": name the configured region instead,
		// as a function's IAM-style ARN checks and log lines would see on AWS.
		ARN:       p.arn("dynamodb", "table/"+name),
		StreamARN: aws.ToString(desc.LatestStreamArn),
	}
	p.out.Tables[r.LogicalID] = t
	p.bindings.SetRef(r.LogicalID, t.Name)
	p.bindings.SetAtt(r.LogicalID, "Arn", t.ARN)
	if t.StreamARN != "" {
		p.bindings.SetAtt(r.LogicalID, "StreamArn", t.StreamARN)
	}
	return nil
}

// createTableInput maps the table's CloudFormation properties onto CreateTable.
func createTableInput(props tableProperties) (*dynamodb.CreateTableInput, error) {
	if len(props.KeySchema) == 0 {
		return nil, errors.New("no KeySchema")
	}
	in := &dynamodb.CreateTableInput{
		KeySchema:   keySchema(props.KeySchema),
		BillingMode: types.BillingModePayPerRequest,
	}
	if props.TableName != "" {
		in.TableName = aws.String(props.TableName)
	}
	for _, a := range props.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName),
			AttributeType: types.ScalarAttributeType(a.AttributeType),
		})
	}
	provisioned := false
	if props.BillingMode != "" {
		in.BillingMode = types.BillingMode(props.BillingMode)
		provisioned = in.BillingMode == types.BillingModeProvisioned
	}
	if provisioned {
		if props.ProvisionedThroughput == nil {
			return nil, errors.New("BillingMode PROVISIONED without ProvisionedThroughput")
		}
		in.ProvisionedThroughput = provisionedThroughput(props.ProvisionedThroughput)
	}
	for _, g := range props.GlobalSecondaryIndexes {
		gsi := types.GlobalSecondaryIndex{
			IndexName:  aws.String(g.IndexName),
			KeySchema:  keySchema(g.KeySchema),
			Projection: indexProjection(g.Projection),
		}
		if provisioned {
			if g.ProvisionedThroughput == nil {
				return nil, fmt.Errorf("index %s: BillingMode PROVISIONED without ProvisionedThroughput", g.IndexName)
			}
			gsi.ProvisionedThroughput = provisionedThroughput(g.ProvisionedThroughput)
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
	}
	for _, l := range props.LocalSecondaryIndexes {
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{
			IndexName:  aws.String(l.IndexName),
			KeySchema:  keySchema(l.KeySchema),
			Projection: indexProjection(l.Projection),
		})
	}
	if s := props.StreamSpecification; s != nil {
		in.StreamSpecification = &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewType(s.StreamViewType),
		}
	}
	return in, nil
}

func keySchema(ks []keyElement) []types.KeySchemaElement {
	out := make([]types.KeySchemaElement, 0, len(ks))
	for _, k := range ks {
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: types.KeyType(k.KeyType)})
	}
	return out
}

func indexProjection(p projection) *types.Projection {
	out := &types.Projection{ProjectionType: types.ProjectionType(p.ProjectionType)}
	if len(p.NonKeyAttributes) > 0 {
		out.NonKeyAttributes = p.NonKeyAttributes
	}
	return out
}

func provisionedThroughput(t *throughput) *types.ProvisionedThroughput {
	return &types.ProvisionedThroughput{
		ReadCapacityUnits:  aws.Int64(t.ReadCapacityUnits.n),
		WriteCapacityUnits: aws.Int64(t.WriteCapacityUnits.n),
	}
}

// activeTable describes the table until it is ACTIVE.
func (p *provisioner) activeTable(ctx context.Context, name string) (*types.TableDescription, error) {
	for {
		out, err := p.clients.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return nil, fmt.Errorf("describe table %s: %w", name, err)
		}
		if out.Table.TableStatus == types.TableStatusActive {
			return out.Table, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for table %s to become active: %w", name, ctx.Err())
		case <-time.After(tableActivePoll):
		}
	}
}

// enableTTL turns on time to live unless it is already on for the same attribute:
// UpdateTimeToLive fails when TTL is already enabled, which would break a second provisioning.
func (p *provisioner) enableTTL(ctx context.Context, name, attribute string) error {
	cur, err := p.clients.DynamoDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("describe time to live of %s: %w", name, err)
	}
	if d := cur.TimeToLiveDescription; d != nil && aws.ToString(d.AttributeName) == attribute &&
		(d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = p.clients.DynamoDB.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(attribute),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("enable time to live on %s.%s: %w", name, attribute, err)
	}
	return nil
}
