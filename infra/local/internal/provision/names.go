package provision

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"

	"github.com/go-serverless/reference/infra/local/template"
)

// The longest names the services accept, for the names provision makes when the template sets
// none. CloudFormation keeps its generated names within them too.
const (
	maxFunctionName = 64
	maxQueueName    = 80 // ".fifo" included
	maxTopicName    = 256
	maxBucketName   = 63
	maxTableName    = 255
	maxRoleName     = 64
	maxLogGroupName = 512
)

// suffixLength is the length of the hash a cut name ends with, as long as CloudFormation's random suffix.
const suffixLength = 12

// generatedName is the name CloudFormation would give r when the template names it not:
// <stack>-<logical ID>, made from the name of the stack r belongs to (a nested stack's for a
// resource of a nested application), at most limit characters long.
func (p *provisioner) generatedName(r template.Resource, limit int) string {
	return generatedName(p.bindings.StackNameOf(r.Stack), r.LogicalID, limit)
}

// generatedName is <stack>-<logicalID>, without CloudFormation's random suffix while it fits in
// limit: one local stack runs per stand-in, so the stack name alone keeps names apart. A longer
// name is cut as CloudFormation cuts its own: the stack name gives way first, the logical ID keeps
// at least half of what is left, and a hash of the whole name is appended, so that two cut names
// never collide.
func generatedName(stack, logicalID string, limit int) string {
	name := stack + "-" + logicalID
	if len(name) <= limit {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	suffix := base32.StdEncoding.EncodeToString(sum[:])[:suffixLength]
	room := limit - len(suffix) - 2 // two hyphens
	stackLen := min(len(stack), max(room-len(logicalID), room/2))
	idLen := min(len(logicalID), room-stackLen)
	return strings.TrimRight(stack[:stackLen], "-") + "-" + logicalID[:idLen] + "-" + suffix
}
