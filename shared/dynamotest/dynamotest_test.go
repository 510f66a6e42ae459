package dynamotest

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

var keyTable = &dynamodb.CreateTableInput{
	AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
	KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
}

func TestStartAndCreateTable(t *testing.T) {
	client := Start(t)
	ctx := t.Context()

	name := CreateTable(t, client, keyTable)
	if keyTable.TableName != nil {
		t.Errorf("CreateTable modified its input: TableName = %q", *keyTable.TableName)
	}
	_, err := client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(name),
		Item:      map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "a"}},
	})
	if err != nil {
		t.Fatalf("PutItem: %v", err)
	}
	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(name),
		Key:       map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "a"}},
	})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	if out.Item == nil {
		t.Error("GetItem found nothing, want the item just put")
	}
}

func TestTablesAreSeparate(t *testing.T) {
	client := Start(t)
	a := CreateTable(t, client, keyTable)
	b := CreateTable(t, client, keyTable)
	if a == b {
		t.Errorf("two tables share the name %q", a)
	}
}

func TestTypedConditionError(t *testing.T) {
	client := Start(t)
	name := CreateTable(t, client, keyTable)
	put := &dynamodb.PutItemInput{
		TableName:                           aws.String(name),
		Item:                                map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "a"}},
		ConditionExpression:                 aws.String("attribute_not_exists(id)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	if _, err := client.PutItem(t.Context(), put); err != nil {
		t.Fatalf("first PutItem: %v", err)
	}
	_, err := client.PutItem(t.Context(), put)
	ccf, ok := errors.AsType[*types.ConditionalCheckFailedException](err)
	if !ok {
		t.Fatalf("second PutItem = %v, want ConditionalCheckFailedException", err)
	}
	if ccf.Item == nil {
		t.Error("ConditionalCheckFailedException.Item is nil, want the ALL_OLD item")
	}
}

func TestTableName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)
	for _, name := range []string{"TestX", "TestX/sub case#1", string(make([]byte, 300))} {
		if got := tableName(name); !valid.MatchString(got) {
			t.Errorf("tableName(%q) = %q, not a valid table name", name, got)
		}
	}
	if tableName("TestX") == tableName("TestX") {
		t.Error("tableName gives the same name twice")
	}
}

func TestLocate(t *testing.T) {
	root := t.TempDir()
	jarDir := filepath.Join(root, standInPath)
	if err := os.MkdirAll(jarDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(jarDir, "DynamoDBLocal.jar"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	deep := filepath.Join(root, "services", "jobs", "internal")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}

	t.Run("walks up", func(t *testing.T) {
		t.Setenv(EnvDir, "")
		t.Chdir(deep)
		got, err := locate()
		if err != nil || got != jarDir {
			t.Errorf("locate() = %q, %v, want %q", got, err, jarDir)
		}
	})
	t.Run("env wins", func(t *testing.T) {
		t.Setenv(EnvDir, jarDir)
		t.Chdir(t.TempDir())
		got, err := locate()
		if err != nil || got != jarDir {
			t.Errorf("locate() = %q, %v, want %q", got, err, jarDir)
		}
	})
	t.Run("env without jar", func(t *testing.T) {
		t.Setenv(EnvDir, t.TempDir())
		if _, err := locate(); !errors.Is(err, errNotInstalled) {
			t.Errorf("locate() = %v, want errNotInstalled", err)
		}
	})
	t.Run("nothing found", func(t *testing.T) {
		t.Setenv(EnvDir, "")
		t.Chdir(t.TempDir())
		if _, err := locate(); !errors.Is(err, errNotInstalled) {
			t.Errorf("locate() = %v, want errNotInstalled", err)
		}
	})
}

// recordingTB records how missing ends a test instead of ending it.
type recordingTB struct {
	testing.TB
	skipped, failed bool
}

func (r *recordingTB) Helper()               {}
func (r *recordingTB) Skipf(string, ...any)  { r.skipped = true }
func (r *recordingTB) Fatalf(string, ...any) { r.failed = true }

func TestMissingStandIn(t *testing.T) {
	tests := []struct {
		require     string
		wantSkipped bool
		wantFailed  bool
	}{
		{"", true, false},
		{"0", true, false},
		{"1", false, true},
	}
	for _, tt := range tests {
		t.Run("REQUIRE_STANDINS="+tt.require, func(t *testing.T) {
			t.Setenv(EnvRequire, tt.require)
			r := &recordingTB{TB: t}
			missing(r, errNotInstalled)
			if r.skipped != tt.wantSkipped || r.failed != tt.wantFailed {
				t.Errorf("skipped, failed = %v, %v, want %v, %v", r.skipped, r.failed, tt.wantSkipped, tt.wantFailed)
			}
		})
	}
}
